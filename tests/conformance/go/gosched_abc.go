// Three goroutines that record, Gosched, record: Gosched sends a goroutine to the tail of
// the global queue. Run: GOMAXPROCS=1 go run gosched_abc.go
package main

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
)

func main() {
	var wg sync.WaitGroup
	var out []string
	for _, name := range []string{"A", "B", "C"} {
		wg.Add(1)
		go func(name string) {
			out = append(out, name+"1")
			runtime.Gosched()
			out = append(out, name+"2")
			wg.Done()
		}(name)
	}
	wg.Wait()
	fmt.Println(strings.Join(out, " "))
}
