// The panic value is made text once, in the panicking goroutine, before the program stops:
// an Error method with side effects runs once, and it may still use the scheduler.
package main

import (
	"fmt"
	"runtime"
	"time"
)

var calls int

type loud struct{}

func (loud) Error() string {
	calls++
	runtime.Gosched()
	return fmt.Sprintf("loud #%d", calls)
}

func worker() {
	panic(loud{})
}

func main() {
	go worker()
	time.Sleep(time.Second)
}
