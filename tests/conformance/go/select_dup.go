// A parked select with several cases on one channel: the partner that comes later completes
// a uniformly random one of them (select's lock order is built from its random poll order).
// Each count is checked with TestSelectFairness's criterion, 10 sigma from the mean.
package main

import (
	"fmt"
	"math"
	"runtime"
)

const trials = 2000

func fair(name string, counts []int) {
	p := 1 / float64(len(counts))
	sigma := math.Sqrt(trials * p * (1 - p))
	verdict := "fair"
	for _, c := range counts {
		if math.Abs(float64(c)-trials*p) > 10*sigma {
			verdict = "unfair"
		}
	}
	fmt.Println(name, len(counts), "cases:", verdict)
}

func main() {
	c := make(chan int)
	sent := make([]int, 2)
	chosen := make([]int, 2)
	three := make([]int, 3)
	result := make(chan int, 1)
	for i := 0; i < trials; i++ {
		go func() {
			select {
			case c <- 1:
			case c <- 0:
			}
		}()
		runtime.Gosched() // the select parks
		sent[<-c]++
		go func() {
			select {
			case <-c:
				result <- 0
			case <-c:
				result <- 1
			}
		}()
		runtime.Gosched()
		c <- 7
		chosen[<-result]++
		go func() {
			select {
			case <-c:
				result <- 0
			case <-c:
				result <- 1
			case <-c:
				result <- 2
			}
		}()
		runtime.Gosched()
		c <- 7
		three[<-result]++
	}
	fair("send", sent)
	fair("recv", chosen)
	fair("recv", three)
}
