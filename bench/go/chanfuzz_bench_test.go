// Package chanfuzzbench holds the Go side of chanfuzz's benchmarks: the
// programs of bench/runtime_bench.cpp and bench/harness_bench.cpp, written
// in plain Go under the same names, so scripts/bench-report can put the two
// side by side (docs/benchmarks.md).
//
//	cd bench/go && /usr/lib/go-1.19/bin/go test -run '^$' -bench . -cpu 1,2
//
// Go appends "-2" to a name when GOMAXPROCS is 2 and nothing when it is 1.
// Standard library only: it builds offline.
//
// Naming: chanfuzz's "SelectReady/cases:4/sim_fixed" is Go's
// "BenchmarkSelectReady/cases:4" (GOMAXPROCS=1); ".../threads:2" is compared
// with "BenchmarkSelectReady/cases:4-2".
package chanfuzzbench

import (
	"context"
	"fmt"
	"math/rand"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// ---- CPU time -----------------------------------------------------------------

// Process CPU time (every thread, GC included), from
// clock_gettime(CLOCK_PROCESS_CPUTIME_ID) as on chanfuzz's side (getrusage is
// too coarse for microsecond regions): reported as cpu-ns/op next to Go's
// wall-clock ns/op, as chanfuzz's cpu_ns_per_op, so that the two sides can
// also be compared by the CPU they burn on a loaded machine.
func processCPU() time.Duration {
	const clockProcessCPUTimeID = 2
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTimeID,
		uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}

// cpuClock sums process CPU time over measured regions.
type cpuClock struct{ start, total time.Duration }

func (c *cpuClock) begin() { c.start = processCPU() }
func (c *cpuClock) end()   { c.total += processCPU() - c.start }
func (c *cpuClock) report(b *testing.B) {
	b.ReportMetric(float64(c.total.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// cpuPerOp measures the whole benchmark function: defer cpuPerOp(b)().
func cpuPerOp(b *testing.B) func() {
	var c cpuClock
	c.begin()
	return func() {
		c.end()
		c.report(b)
	}
}

// ---- select -----------------------------------------------------------------

// One value is put into a buffered channel, then a select over `cases`
// receive cases takes it: the ready case is the last one, the others are
// unbuffered channels nobody uses. Per op: one buffered send + one select.
// (Go compiles a one-case select into a plain receive: that is what a Go
// program gets, so it is what chanfuzz is compared with.)
func BenchmarkSelectReady(b *testing.B) {
	for _, cases := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("cases:%d", cases), func(b *testing.B) {
			defer cpuPerOp(b)()
			var idle [7]chan int
			for i := range idle {
				idle[i] = make(chan int)
			}
			ready := make(chan int, 1)
			var sink int
			switch cases {
			case 1:
				for i := 0; i < b.N; i++ {
					ready <- 1
					select {
					case v := <-ready:
						sink += v
					}
				}
			case 2:
				for i := 0; i < b.N; i++ {
					ready <- 1
					select {
					case v := <-idle[0]:
						sink += v
					case v := <-ready:
						sink += v
					}
				}
			case 4:
				for i := 0; i < b.N; i++ {
					ready <- 1
					select {
					case v := <-idle[0]:
						sink += v
					case v := <-idle[1]:
						sink += v
					case v := <-idle[2]:
						sink += v
					case v := <-ready:
						sink += v
					}
				}
			default:
				for i := 0; i < b.N; i++ {
					ready <- 1
					select {
					case v := <-idle[0]:
						sink += v
					case v := <-idle[1]:
						sink += v
					case v := <-idle[2]:
						sink += v
					case v := <-idle[3]:
						sink += v
					case v := <-idle[4]:
						sink += v
					case v := <-idle[5]:
						sink += v
					case v := <-idle[6]:
						sink += v
					case v := <-ready:
						sink += v
					}
				}
			}
			if sink != b.N {
				b.Fatalf("took %d values, want %d", sink, b.N)
			}
		})
	}
}

// A select over `cases` receive cases on channels nobody uses, and a
// default: none is ready, default is taken. Per op: one select. (Go compiles
// a one-case select with default into a non-blocking receive.)
func BenchmarkSelectDefault(b *testing.B) {
	for _, cases := range []int{1, 2} {
		b.Run(fmt.Sprintf("cases:%d", cases), func(b *testing.B) {
			defer cpuPerOp(b)()
			idle0 := make(chan int)
			idle1 := make(chan int)
			taken := 0
			for i := 0; i < b.N; i++ {
				if cases == 1 {
					select {
					case <-idle0:
					default:
						taken++
					}
				} else {
					select {
					case <-idle0:
					case <-idle1:
					default:
						taken++
					}
				}
			}
			if taken != b.N {
				b.Fatalf("default taken %d times, want %d", taken, b.N)
			}
		})
	}
}

// Two goroutines meet in selects on both sides: a sender loops on
// select{c <- i, <-done}, main on select{<-c, <-quit}. Per op: one
// hand-over between two selects on an unbuffered channel.
func BenchmarkSelectContended(b *testing.B) {
	defer cpuPerOp(b)()
	c := make(chan int)
	done := make(chan struct{})
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		for i := 0; ; i++ {
			select {
			case c <- i:
			case <-done:
				return
			}
		}
	}()
	sink := 0
	for i := 0; i < b.N; i++ {
		select {
		case v := <-c:
			sink += v
		case <-quit:
		}
	}
	close(done)
	<-exited
	_ = sink
}

// ---- channels -----------------------------------------------------------------

// Unbuffered ping-pong: main sends on ping, an echo goroutine sends it back
// on pong. Per op: one round trip.
func BenchmarkPingPong(b *testing.B) {
	defer cpuPerOp(b)()
	ping := make(chan int)
	pong := make(chan int)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		for v := range ping {
			pong <- v
		}
	}()
	sink := 0
	for i := 0; i < b.N; i++ {
		ping <- 1
		sink += <-pong
	}
	close(ping)
	<-exited
	if sink != b.N {
		b.Fatalf("got %d, want %d", sink, b.N)
	}
}

// Producer/consumer through a buffered channel of capacity `cap`: a producer
// goroutine sends every item, then closes; main receives them. Per op: one
// item.
func BenchmarkBuffered(b *testing.B) {
	for _, capacity := range []int{1, 100} {
		b.Run(fmt.Sprintf("cap:%d", capacity), func(b *testing.B) {
			defer cpuPerOp(b)()
			c := make(chan int, capacity)
			items := b.N
			go func() {
				for i := 0; i < items; i++ {
					c <- i
				}
				close(c)
			}()
			got := 0
			for i := 0; i < b.N; i++ {
				<-c
				got++
			}
			if _, ok := <-c; ok || got != b.N {
				b.Fatalf("got %d items and an open channel", got)
			}
		})
	}
}

// One goroutine sends into a buffered channel (capacity 1) and receives the
// value back. Per op: one send + one receive, never blocking.
func BenchmarkBufferedSelf(b *testing.B) {
	defer cpuPerOp(b)()
	c := make(chan int, 1)
	sink := 0
	for i := 0; i < b.N; i++ {
		c <- 1
		sink += <-c
	}
	if sink != b.N {
		b.Fatalf("got %d, want %d", sink, b.N)
	}
}

// ---- goroutines ---------------------------------------------------------------

// go of a goroutine that only signals a WaitGroup and exits; main waits for
// each batch of 1,000. Per op: one spawn + run + exit.
func BenchmarkSpawn(b *testing.B) {
	defer cpuPerOp(b)()
	const batch = 1000
	var wg sync.WaitGroup
	inBatch := 0
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		go func() {
			wg.Done()
		}()
		inBatch++
		if inBatch == batch {
			inBatch = 0
			wg.Wait()
		}
	}
	wg.Wait()
}

// ---- cancellation -------------------------------------------------------------

// Spawns n goroutines, each blocked in select{<-work, <-done} once `started`
// is zero; each signals `exited` as it returns.
func spawnBlocked(n int, work chan int, done <-chan struct{}, started, exited *sync.WaitGroup) {
	started.Add(n)
	exited.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer exited.Done()
			started.Done()
			select {
			case <-work:
			case <-done:
			}
		}()
	}
}

// N goroutines blocked in select{<-work, <-done}; per op the time from
// close(done) until every one has exited, and the same per goroutine
// (ns/task).
func BenchmarkCancel(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("tasks:%d", n), func(b *testing.B) {
			var total time.Duration
			var cpu cpuClock
			b.StopTimer()
			for i := 0; i < b.N; i++ {
				work := make(chan int)
				done := make(chan struct{})
				var started, exited sync.WaitGroup
				spawnBlocked(n, work, done, &started, &exited)
				started.Wait()
				b.StartTimer()
				cpu.begin()
				t0 := time.Now()
				close(done)
				exited.Wait()
				total += time.Since(t0)
				cpu.end()
				b.StopTimer()
			}
			cpu.report(b)
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N)/float64(n), "ns/task")
		})
	}
}

// The same through a context tree: a root from WithCancel(Background()),
// `children` contexts from WithCancel(root), one goroutine blocked on each
// child's Done(); per op the time from cancelling the root until all have
// exited.
func BenchmarkCancelContextTree(b *testing.B) {
	const children = 1000
	b.Run(fmt.Sprintf("children:%d", children), func(b *testing.B) {
		var total time.Duration
		var cpu cpuClock
		b.StopTimer()
		for i := 0; i < b.N; i++ {
			work := make(chan int)
			root, cancelRoot := context.WithCancel(context.Background())
			cancels := make([]context.CancelFunc, 0, children)
			var started, exited sync.WaitGroup
			started.Add(children)
			exited.Add(children)
			for j := 0; j < children; j++ {
				child, cancelChild := context.WithCancel(root)
				cancels = append(cancels, cancelChild)
				go func() {
					defer exited.Done()
					started.Done()
					select {
					case <-work:
					case <-child.Done():
					}
				}()
			}
			started.Wait()
			b.StartTimer()
			cpu.begin()
			t0 := time.Now()
			cancelRoot()
			exited.Wait()
			total += time.Since(t0)
			cpu.end()
			b.StopTimer()
			for _, c := range cancels {
				c()
			}
		}
		cpu.report(b)
		b.ReportMetric(float64(total.Nanoseconds())/float64(b.N)/children, "ns/task")
	})
}

// Bytes per blocked goroutine: heap in use plus goroutine stacks, after a
// GC, before spawning n goroutines blocked in select{<-work, <-done} and once
// all are blocked, divided by n (bytes/task). The time per op is spawning,
// blocking and cancelling all of them.
func BenchmarkMemoryPerBlockedTask(b *testing.B) {
	const n = 10000
	b.Run(fmt.Sprintf("tasks:%d", n), func(b *testing.B) {
		inUse := func() float64 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return float64(ms.HeapAlloc + ms.StackInuse)
		}
		total := 0.0
		for i := 0; i < b.N; i++ {
			work := make(chan int)
			done := make(chan struct{})
			var started, exited sync.WaitGroup
			before := inUse()
			spawnBlocked(n, work, done, &started, &exited)
			started.Wait()
			total += inUse() - before
			close(done)
			exited.Wait()
		}
		b.ReportMetric(total/float64(b.N)/n, "bytes/task")
	})
}

// ---- whole programs (bench/harness_bench.cpp's scenarios, run for real) ----

// The catalogue's rand_stream_done: a producer selects on its send and on
// done; main takes 3 values, closes done and waits for it. Per op: one whole
// program (chanfuzz's "Runs/..." rows are one simulated run each).
func randStreamDone(r *rand.Rand) {
	randStream := make(chan int)
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		defer close(randStream)
		for {
			select {
			case randStream <- r.Intn(1 << 20):
			case <-done:
				return
			}
		}
	}()
	for i := 0; i < 3; i++ {
		<-randStream
	}
	close(done)
	<-exited
}

// The catalogue's pipeline: generator(1, 2, 3, 4) -> multiply(2) -> add(1)
// -> multiply(2), every stage selecting on done; main takes every value.
func pipeline() []int {
	done := make(chan struct{})
	generator := func(values ...int) <-chan int {
		out := make(chan int)
		go func() {
			defer close(out)
			for _, v := range values {
				select {
				case out <- v:
				case <-done:
					return
				}
			}
		}()
		return out
	}
	stage := func(in <-chan int, op func(int) int) <-chan int {
		out := make(chan int)
		go func() {
			defer close(out)
			for v := range in {
				select {
				case out <- op(v):
				case <-done:
					return
				}
			}
		}()
		return out
	}
	double := func(v int) int { return v * 2 }
	out := stage(stage(stage(generator(1, 2, 3, 4), double), func(v int) int { return v + 1 }), double)
	var got []int
	for v := range out {
		got = append(got, v)
	}
	close(done)
	return got
}

func BenchmarkRuns(b *testing.B) {
	b.Run("scenario:rand_stream_done", func(b *testing.B) {
		defer cpuPerOp(b)()
		r := rand.New(rand.NewSource(1))
		for i := 0; i < b.N; i++ {
			randStreamDone(r)
		}
	})
	b.Run("scenario:pipeline", func(b *testing.B) {
		defer cpuPerOp(b)()
		for i := 0; i < b.N; i++ {
			if got := pipeline(); len(got) != 4 || got[3] != 18 {
				b.Fatalf("pipeline gave %v", got)
			}
		}
	})
}
