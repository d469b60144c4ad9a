// Mutex starvation mode at GOMAXPROCS=1. Four goroutines queue on a mutex that main holds for
// more than 1 ms (starvationThresholdNs). Main unlocks (normal mode: the first waiter is woken,
// not handed the lock), barges back in, and yields holding it: the woken waiter finds the lock
// taken after waiting > 1 ms, switches the mutex to starvation mode and requeues at the HEAD of
// the semaphore (LIFO, it had waited before). From then on every unlock hands the lock straight
// to the next waiter in arrival order; main's next Lock queues behind them; the last waiter
// switches the mutex back to normal mode. Run: GOMAXPROCS=1 go run sync_mutex_starve.go
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
	var mu sync.Mutex
	var wg sync.WaitGroup
	var order []string
	mu.Lock()
	for i := 1; i <= 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			mu.Lock()
			order = append(order, fmt.Sprint("w", i))
			mu.Unlock()
		}(i)
	}
	runtime.Gosched() // every waiter runs and queues on the mutex
	hold(3 * time.Millisecond)
	mu.Unlock()       // normal mode: wakes the first waiter
	mu.Lock()         // main barges in ahead of it
	runtime.Gosched() // the woken waiter finds the mutex locked: starvation mode
	order = append(order, "main unlocks")
	mu.Unlock() // hands the mutex to the waiter at the head
	mu.Lock()   // queues behind every earlier waiter
	order = append(order, "main")
	mu.Unlock()
	wg.Wait()
	fmt.Println(order)
}
