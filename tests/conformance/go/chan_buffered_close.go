// A buffered channel (cap 2) at GOMAXPROCS=1: a producer sends 0..4 and closes, main ranges
// over the channel. Sending to a parked receiver hands the value over directly (runnext); a
// full buffer parks the producer; main's receive from the full buffer with a parked sender
// takes the head and puts the sender's value at the tail; values buffered before close are
// still delivered, then the range ends.
// Run: GOMAXPROCS=1 go run chan_buffered_close.go
package main

import "fmt"

func main() {
	var out []string
	ch := make(chan int, 2)
	go func() {
		for i := 0; i < 5; i++ {
			ch <- i
			out = append(out, fmt.Sprint("sent ", i, " len ", len(ch)))
		}
		close(ch)
		out = append(out, "closed")
	}()
	for v := range ch {
		out = append(out, fmt.Sprint("recv ", v, " len ", len(ch)))
	}
	v, ok := <-ch
	out = append(out, fmt.Sprint("after close ", v, " ", ok))
	for _, s := range out {
		fmt.Println(s)
	}
}
