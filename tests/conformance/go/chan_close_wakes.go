// close wakes every parked goroutine at GOMAXPROCS=1: three receivers get the zero value with
// ok=false, three senders panic "send on closed channel". closechan collects the woken
// goroutines on a stack (gList: the last dequeued is readied first) and readies each into
// runnext, kicking the previous one to the tail.
// Run: GOMAXPROCS=1 go run chan_close_wakes.go
package main

import (
	"fmt"
	"runtime"
	"sync"
)

// syncTick leaves P0 with schedtick = 1 (mod 61) and empty run queues (see runq300.go).
func syncTick() {
	for {
		ran := false
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { ran = true; wg.Done() }()
		runtime.Gosched()
		first := !ran
		wg.Wait()
		if first {
			return
		}
	}
}

func main() {
	syncTick()
	var out []string
	var wg sync.WaitGroup
	rch := make(chan int)
	for i := 1; i <= 3; i++ {
		wg.Add(1)
		go func(i int) {
			v, ok := <-rch
			out = append(out, fmt.Sprint("r", i, " ", v, " ", ok))
			wg.Done()
		}(i)
		runtime.Gosched()
	}
	close(rch)
	out = append(out, "closed rch")
	wg.Wait()
	sch := make(chan int)
	for i := 1; i <= 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer func() {
				out = append(out, fmt.Sprint("s", i, " ", recover()))
				wg.Done()
			}()
			sch <- i
		}(i)
		runtime.Gosched()
	}
	close(sch)
	out = append(out, "closed sch")
	wg.Wait()
	for _, s := range out {
		fmt.Println(s)
	}
}
