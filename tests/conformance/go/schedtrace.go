// The Go twin of tests/test_schedtrace.py: five goroutines kept runnable on one P for a
// while, then main returns. schedtrace.out is the shape of its first schedtrace line under
// Go 1.22.10 (every run of digits replaced by N):
// GOMAXPROCS=1 GODEBUG=schedtrace=50 go run schedtrace.go 2>&1 | head -1 | sed -E 's/[0-9]+/N/g'
package main

import "time"

func spin(stop *bool) {
	for !*stop {
	}
}

func main() {
	stop := false
	for i := 0; i < 5; i++ {
		go spin(&stop)
	}
	time.Sleep(300 * time.Millisecond)
	stop = true
}
