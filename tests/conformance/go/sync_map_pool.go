// sync.Map and sync.Pool at GOMAXPROCS=1. Map: what each operation returns, including a
// missing key (CompareAndSwap and CompareAndDelete never match it, not even with nil: issue
// 51972), a stored nil, Range stopping when f returns false, Range with f calling the Map
// (TestMapRangeNestedCall), goroutines racing on LoadOrStore (the first to run wins), and the
// panic for an unhashable key. Range's order is random, so what it visits is printed sorted.
// Pool: Get's order at one P (the first Put is kept aside and comes out first, the rest last
// in, first out), Put(nil), New, and the victim cache across two garbage collections.
// Run: GOMAXPROCS=1 go run sync_map_pool.go
package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
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

func contents(m *sync.Map) []string {
	var kv []string
	m.Range(func(k, v any) bool {
		kv = append(kv, fmt.Sprint(k, "=", v))
		return true
	})
	sort.Strings(kv)
	return kv
}

func main() {
	syncTick()
	var m sync.Map
	fmt.Println(m.Load("a"))
	m.Store("a", 1)
	fmt.Println(m.Load("a"))
	fmt.Println(m.LoadOrStore("a", 2))
	fmt.Println(m.LoadOrStore("b", 2))
	fmt.Println(m.Swap("b", 3))
	fmt.Println(m.Swap("c", 4))
	fmt.Println(m.CompareAndSwap("c", 5, 6), m.CompareAndSwap("c", 4, 6))
	fmt.Println(m.CompareAndSwap("missing", nil, 1), m.CompareAndDelete("missing", nil))
	m.Store("n", nil)
	fmt.Println(m.Load("n"))
	fmt.Println(m.CompareAndDelete("n", 0), m.CompareAndDelete("n", nil))
	fmt.Println(m.LoadAndDelete("a"))
	fmt.Println(m.LoadAndDelete("a"))
	m.Delete("nothing")
	fmt.Println(contents(&m))
	visits := 0
	m.Range(func(k, v any) bool { visits++; return false })
	fmt.Println("visits", visits)

	m.Range(func(key, value any) bool {
		m.Range(func(key, value any) bool {
			v, ok := m.Load(key)
			_, loaded := m.LoadOrStore(42, "dummy")
			m.Store(42, "sync.Map")
			d, deleted := m.LoadAndDelete(42)
			if !ok || v != value || loaded || !deleted || d != "sync.Map" {
				fmt.Println("nested range saw", key, v, ok, loaded, d, deleted)
			}
			return true
		})
		m.Delete(key)
		return true
	})
	fmt.Println("after nested range", contents(&m))

	var wg sync.WaitGroup
	var out []string
	for i := 1; i <= 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			v, loaded := m.LoadOrStore("w", i)
			out = append(out, fmt.Sprint("g", i, " ", v, " ", loaded))
		}(i)
	}
	wg.Wait()
	fmt.Println(out)

	func() {
		defer func() { fmt.Println(recover()) }()
		m.Load([]int{1})
	}()
	func() {
		defer func() { fmt.Println(recover()) }()
		m.Store([]int{1}, 1)
	}()
	fmt.Println(contents(&m))

	debug.SetGCPercent(-1)
	var p sync.Pool
	fmt.Println(p.Get())
	p.Put("a")
	p.Put("b")
	p.Put("c")
	fmt.Println(p.Get(), p.Get(), p.Get(), p.Get())
	p.Put(nil)
	fmt.Println(p.Get())
	n := 0
	p.New = func() any { n++; return n }
	fmt.Println(p.Get(), p.Get())
	p.Put(42)
	fmt.Println(p.Get(), p.Get())
	p.New = nil
	for i := 0; i < 100; i++ {
		p.Put(fmt.Sprint("c", i))
	}
	runtime.GC()
	fmt.Println(p.Get(), p.Get(), p.Get())
	runtime.GC()
	fmt.Println(p.Get())
}
