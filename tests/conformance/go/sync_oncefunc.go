// sync.OnceFunc, OnceValue and OnceValues at GOMAXPROCS=1. A panic in f is re-raised with the
// same value on every call, and f runs once. Goroutines that call while f runs (f yields) wait
// on the Once's mutex and all get f's results. If f calls Goexit, f runs once and a later
// call panics with a PanicNilError ("panic called with nil argument"); the first call's own
// outcome is unspecified (Go's panics during the Goexit, recovered here, and the Goexit goes
// on; gosched's goroutine just exits), so the program prints nothing from it.
// Run: GOMAXPROCS=1 go run sync_oncefunc.go
package main

import (
	"errors"
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

func try(label string, f func()) {
	defer func() { fmt.Println(label, "recovered:", recover()) }()
	f()
}

func main() {
	syncTick()
	calls := 0
	f := sync.OnceFunc(func() { calls++; panic("x") })
	try("first", f)
	try("second", f)
	fmt.Println("calls", calls)

	boom := errors.New("boom")
	var got []error
	v := sync.OnceValue(func() int { panic(boom) })
	for i := 0; i < 2; i++ {
		func() {
			defer func() { got = append(got, recover().(error)) }()
			v()
		}()
	}
	fmt.Println("same value", got[0] == boom && got[1] == boom)

	var out []string
	n := 0
	vs := sync.OnceValues(func() (int, string) {
		n++
		out = append(out, "f start")
		runtime.Gosched()
		out = append(out, "f end")
		return 7, "seven"
	})
	var wg sync.WaitGroup
	for i := 1; i <= 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out = append(out, fmt.Sprint("g", i, " calls"))
			a, b := vs()
			out = append(out, fmt.Sprint("g", i, " got ", a, " ", b))
		}(i)
	}
	wg.Wait()
	a, b := vs()
	fmt.Println(out)
	fmt.Println("main got", a, b, "calls", n)

	gcalls := 0
	g := sync.OnceFunc(func() { gcalls++; runtime.Goexit() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() { recover() }()
		g()
		fmt.Println("not reached")
	}()
	wg.Wait()
	try("after goexit", g)
	fmt.Println("gcalls", gcalls)
}
