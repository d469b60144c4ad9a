// sync.RWMutex at GOMAXPROCS=1. Readers r4, r1, r2 and writer w3 queue (in that order: r4 was
// in runnext) while main holds the write lock. Unlock releases one readerSem unit per waiting
// reader and readies them (each into runnext), then unlocks the writer mutex, whose waiter w3
// takes runnext and runs first: it announces itself (readerCount goes negative) and waits for
// the three readers. A reader arriving now (late, started by r4) must wait for the writer, but
// Go's semaphores let a newcomer take a unit released for a woken waiter that has not run yet:
// late takes one and shares the lock with the readers, and r2, the last of them to run, finds
// no unit left, queues again and gets in only after the writer.
// Run: GOMAXPROCS=1 go run sync_rwmutex.go
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
	var rw sync.RWMutex
	var wg sync.WaitGroup
	var out []string
	reader := func(name string, spawnLate bool) {
		defer wg.Done()
		rw.RLock()
		out = append(out, name)
		if spawnLate {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rw.RLock()
				out = append(out, "late")
				rw.RUnlock()
			}()
		}
		runtime.Gosched()
		out = append(out, name+" done")
		rw.RUnlock()
	}
	rw.Lock()
	for i := 1; i <= 4; i++ {
		wg.Add(1)
		name := fmt.Sprint("r", i)
		if i == 3 {
			go func() {
				defer wg.Done()
				rw.Lock()
				out = append(out, "w3")
				rw.Unlock()
			}()
		} else {
			go reader(name, i == 4)
		}
	}
	runtime.Gosched() // everyone queues
	out = append(out, "main unlocks")
	rw.Unlock()
	wg.Wait()
	fmt.Println(out)
}
