// sync.Cond at GOMAXPROCS=1: Go's notifyList tickets. Five goroutines wait in the order they
// ran (w5 first: it was in runnext); a Signal before any Wait is lost. Signal wakes the oldest
// waiter, which must take the lock again before Wait returns (it blocks on the mutex while main
// holds it). Two Signals wake the two oldest; each goready puts the woken waiter in runnext,
// so the later one runs first. Broadcast wakes the rest in wait order, the last one runs first.
// Run: GOMAXPROCS=1 go run sync_cond.go
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
	var mu sync.Mutex
	c := sync.NewCond(&mu)
	var wg sync.WaitGroup
	var out []string
	waiting := 0
	c.Signal() // nobody waits yet: lost
	for i := 1; i <= 5; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			mu.Lock()
			out = append(out, fmt.Sprint("wait", i))
			waiting++
			c.Wait()
			out = append(out, fmt.Sprint("w", i))
			mu.Unlock()
		}(i)
	}
	mu.Lock()
	for waiting < 5 {
		mu.Unlock()
		runtime.Gosched()
		mu.Lock()
	}
	c.Signal()
	runtime.Gosched() // the woken waiter blocks on mu, which main holds
	out = append(out, "signal")
	mu.Unlock()
	runtime.Gosched()
	mu.Lock()
	c.Signal()
	c.Signal()
	out = append(out, "signal2")
	mu.Unlock()
	runtime.Gosched()
	mu.Lock()
	c.Broadcast()
	out = append(out, "broadcast")
	mu.Unlock()
	wg.Wait()
	fmt.Println(out)
}
