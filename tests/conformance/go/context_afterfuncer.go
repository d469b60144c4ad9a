// Go 1.21's afterFuncer: a parent of a type of its own with an AfterFunc method is used for
// propagation (propagateCancel), with no goroutine. Each child registers a function with it
// and keeps the stop function in a stopCtx (so the child is named context.stopCtx.WithCancel);
// the child calls stop when it ends first. A cancelCtx calls it only when its own cancel
// cancelled it; a timerCtx and an afterFuncCtx call it on every cancel with removeFromParent
// (Go's timerCtx.cancel and afterFuncCtx.cancel), even after the parent has cancelled them.
// A parent already done is not asked at all (and names the child by its own type).
// context.AfterFunc on such a parent registers through it too; f runs in its own goroutine
// (here: once main blocks).
// Run: GOMAXPROCS=1 go run context_afterfuncer.go
package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
)

// parent is a context that is not one of package context's types, with an AfterFunc method
// that records its functions in order and runs them when cancelled.
type parent struct {
	done chan struct{}
	err  error
	fs   map[int]func()
	keys []int
	n    int
}

func (p *parent) Deadline() (time.Time, bool) { return time.Time{}, false }
func (p *parent) Done() <-chan struct{}       { return p.done }
func (p *parent) Err() error                  { return p.err }
func (p *parent) Value(key any) any           { return nil }

func (p *parent) AfterFunc(f func()) func() bool {
	p.n++
	k := p.n
	fmt.Println("p.AfterFunc", k)
	p.fs[k] = f
	p.keys = append(p.keys, k)
	return func() bool {
		_, ok := p.fs[k]
		delete(p.fs, k)
		fmt.Println("p.stop", k, ok)
		return ok
	}
}

func (p *parent) cancel(err error) {
	fmt.Println("p.cancel")
	p.err = err
	close(p.done)
	fs := p.fs
	p.fs = map[int]func(){}
	for _, k := range p.keys {
		if f, ok := fs[k]; ok {
			fmt.Println("p runs", k)
			f()
		}
	}
}

func main() {
	p := &parent{done: make(chan struct{}), fs: map[int]func(){}}
	before := runtime.NumGoroutine()
	c1, cancel1 := context.WithCancel(p)
	fmt.Println(c1)
	c2, cancel2 := context.WithTimeout(p, time.Hour)
	c3, cancel3 := context.WithDeadline(p, time.Now().Add(-time.Second))
	fmt.Println("c3", c3.Err())
	c4, cancel4 := context.WithCancelCause(p)
	g1, cancelG1 := context.WithCancel(c4) // a child of ours: registered in c4
	fmt.Println(g1)
	ran := make(chan string, 1)
	stopF := context.AfterFunc(p, func() { ran <- "f ran" })
	stopG := context.AfterFunc(p, func() { ran <- "g ran" })
	fmt.Println("stopG", stopG())
	fmt.Println("goroutines", runtime.NumGoroutine()-before)
	cancel1()
	cancel1()
	cancel4(errors.New("why4"))
	fmt.Println("g1", g1.Err(), context.Cause(g1))
	p.cancel(errors.New("parent gone"))
	fmt.Println("c1", c1.Err())
	fmt.Println("c2", c2.Err(), context.Cause(c2))
	cancel2()
	cancel3()
	fmt.Println(<-ran)
	fmt.Println("stopF", stopF())
	c5, cancel5 := context.WithCancel(p)
	fmt.Println("c5", c5.Err(), strings.TrimPrefix(fmt.Sprint(c5), "*")) // Python has no pointer types
	cancel5()
	cancelG1()
	fmt.Println("end")
}
