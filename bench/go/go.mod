// The Go side of the chanfuzz benchmarks (bench/runtime_bench.cpp): the same
// programs under the same names, standard library only, so it builds offline.
module chanfuzzbench

go 1.19
