// A panic in a goroutine other than main: the trace ends with "created by" and the go
// statement that started it.
package main

import "time"

func worker() {
	panic("in worker")
}

func main() {
	go worker()
	time.Sleep(time.Second)
}
