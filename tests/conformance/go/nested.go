// A goroutine that starts two more and then yields: the newest child is in runnext, the older
// one was kicked to the ring, and the yielding parent waits in the global queue behind both.
// Run: GOMAXPROCS=1 go run nested.go
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
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, name := range []string{"B", "C", "D"} {
			wg.Add(1)
			go func(name string) {
				out = append(out, name)
				wg.Done()
			}(name)
		}
		out = append(out, "A1")
		runtime.Gosched()
		out = append(out, "A2")
	}()
	wg.Wait()
	fmt.Println(strings.Join(out, " "))
}
