//go:build !unix

package main

// getRusage is not available here: CPU and peak RSS read as zero.
func getRusage() rusage { return rusage{} }
