//go:build unix

package main

import (
	"runtime"
	"syscall"
	"time"
)

// getRusage reads this process's CPU time (user + system, all threads)
// and peak resident set size from getrusage(2).
func getRusage() rusage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return rusage{}
	}
	maxRSS := int64(ru.Maxrss)
	if runtime.GOOS != "darwin" {
		maxRSS *= 1024 // kilobytes everywhere but macOS
	}
	return rusage{
		cpu:    time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		maxRSS: maxRSS,
	}
}
