// select at GOMAXPROCS=1: default when nothing is ready; nil-channel cases are never chosen
// (not even when every other case is nil); a parked select is woken by a sender through
// runnext; a select on a closed channel receives the zero value; time.After fires a timeout.
// Run: GOMAXPROCS=1 go run chan_select.go
package main

import (
	"fmt"
	"time"
)

func main() {
	var out []string
	var nilch chan int
	ch := make(chan int, 1)
	select {
	case v := <-ch:
		out = append(out, fmt.Sprint("recv ", v))
	default:
		out = append(out, "default: empty")
	}
	select {
	case <-nilch:
		out = append(out, "nil recv")
	case nilch <- 1:
		out = append(out, "nil send")
	default:
		out = append(out, "default: only nil cases")
	}
	ch <- 7
	select {
	case ch <- 8:
		out = append(out, "sent 8")
	case nilch <- 1:
		out = append(out, "nil send")
	default:
		out = append(out, "default: full")
	}
	for i := 0; i < 20; i++ {
		select {
		case v := <-nilch:
			out = append(out, fmt.Sprint("nil recv ", v))
		case v := <-ch:
			out = append(out, fmt.Sprint("recv ", v))
			ch <- v + 1
		}
	}
	<-ch
	unbuf := make(chan int)
	go func() {
		out = append(out, "sender runs")
		unbuf <- 42
		out = append(out, "sender done")
	}()
	select {
	case v := <-unbuf:
		out = append(out, fmt.Sprint("select recv ", v))
	case <-nilch:
		out = append(out, "nil recv")
	}
	out = append(out, "main after select")
	close(ch)
	select {
	case v, ok := <-ch:
		out = append(out, fmt.Sprint("closed recv ", v, " ", ok))
	case <-nilch:
		out = append(out, "nil recv")
	}
	select {
	case <-unbuf:
		out = append(out, "recv")
	case <-time.After(5 * time.Millisecond):
		out = append(out, "timeout")
	}
	for _, s := range out {
		fmt.Println(s)
	}
}
