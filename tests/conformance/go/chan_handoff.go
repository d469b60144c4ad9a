// Unbuffered hand-off at GOMAXPROCS=1: main sends 0, 1, 2 while another goroutine receives
// them. A send to a parked receiver hands the value over and readies the receiver into runnext
// without yielding; a receive from a parked sender does the same for the sender.
// Run: GOMAXPROCS=1 go run chan_handoff.go
package main

import "fmt"

func main() {
	var out []string
	ch := make(chan int)
	done := make(chan bool)
	go func() {
		out = append(out, "other goroutine runs")
		for i := 0; i < 3; i++ {
			v := <-ch
			out = append(out, fmt.Sprint("recv ", v))
		}
		done <- true
	}()
	for i := 0; i < 3; i++ {
		ch <- i
		out = append(out, fmt.Sprint("sent ", i))
	}
	<-done
	for _, s := range out {
		fmt.Println(s)
	}
}
