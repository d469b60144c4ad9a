// A timer readies its goroutine into runnext of the P that ran it (GOMAXPROCS=1): the sleeper's
// timer is due when main yields, checkTimers runs it at the top of findRunnable and the sleeper
// takes runnext, kicking the goroutine that was there to the tail.
// Run: GOMAXPROCS=1 go run chan_timer_runnext.go
package main

import (
	"fmt"
	"runtime"
	"sync"
	"time"
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

// hold keeps the processor for d without yielding.
func hold(d time.Duration) {
	t0 := time.Now()
	for time.Since(t0) < d {
	}
}

func main() {
	syncTick()
	var out []string
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		out = append(out, "sleeper sleeps")
		time.Sleep(time.Millisecond)
		out = append(out, "sleeper woke")
		wg.Done()
	}()
	runtime.Gosched()
	go func() {
		out = append(out, "other runs")
		wg.Done()
	}()
	hold(3 * time.Millisecond)
	out = append(out, "main yields")
	runtime.Gosched()
	out = append(out, "main back")
	wg.Wait()
	for _, s := range out {
		fmt.Println(s)
	}
}
