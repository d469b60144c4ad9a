// 300 goroutines at GOMAXPROCS=1: runnext, the 256-slot ring overflowing half of itself into
// the global queue, and one global G taken every 61 schedticks. syncTick first brings P0's
// schedtick to a known value, so the output does not depend on how many system goroutines
// Go's own init ran. Run: GOMAXPROCS=1 go run runq300.go
package main

import (
	"fmt"
	"runtime"
	"sync"
)

// syncTick leaves P0 with schedtick = 1 (mod 61) and empty run queues:
// a goroutine in runnext runs before main (back from Gosched via the global
// queue) unless schedtick%61 == 0, when the fairness check takes main first.
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
	var wg sync.WaitGroup
	var order []int
	for i := 0; i < 300; i++ {
		wg.Add(1)
		go func(i int) {
			order = append(order, i)
			wg.Done()
		}(i)
	}
	wg.Wait()
	fmt.Println(order)
}
