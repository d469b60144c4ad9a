// Three receivers park on one channel; main sends 1, 2, 3. Each send hands its value to the
// receiver that parked first (FIFO) and readies it into runnext, which kicks the previously
// readied one to the tail of the local queue: r3 runs first, then r1, then r2.
// Same for three senders parked on one channel and main receiving.
// Run: GOMAXPROCS=1 go run chan_recv_fifo.go
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
	ch := make(chan int)
	for i := 1; i <= 3; i++ {
		wg.Add(1)
		go func(i int) {
			out = append(out, fmt.Sprint("r", i, " waits"))
			v := <-ch
			out = append(out, fmt.Sprint("r", i, " got ", v))
			wg.Done()
		}(i)
		runtime.Gosched()
	}
	for v := 1; v <= 3; v++ {
		ch <- v
	}
	out = append(out, "main sent")
	wg.Wait()
	for i := 1; i <= 3; i++ {
		wg.Add(1)
		go func(i int) {
			out = append(out, fmt.Sprint("s", i, " sends"))
			ch <- 10 * i
			out = append(out, fmt.Sprint("s", i, " done"))
			wg.Done()
		}(i)
		runtime.Gosched()
	}
	for k := 0; k < 3; k++ {
		out = append(out, fmt.Sprint("main got ", <-ch))
	}
	wg.Wait()
	for _, s := range out {
		fmt.Println(s)
	}
}
