// Command wwload is wirewatch's load harness: it measures whole poll
// cycles (fetch → parse → dedup → match → store) over thousands of
// synthetic sources on loopback, with a raw HTTP baseline in the same run.
//
//	go run ./cmd/wwload -n 10000                       cold, warm, warm, baseline, steady
//	go run ./cmd/wwload -n 10000 -prefill 1000000      ... over a store of a million items
//	go run ./cmd/wwload -n 1000 -runs 3                median of 3 fresh runs
//	go run ./cmd/wwload -n 10000 -cpuprofile cpu.pprof one profile per cycle
//
// The feeds come from `wwload serve`, a child process, so the CPU time and
// peak RSS measured (getrusage of this process) are wirewatch's alone;
// the prefill also runs in a child (`wwload prefill`) for the same reason.
// Run `wwload -h` for every flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runCLI(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `wwload measures wirewatch's poll cycles over synthetic sources on loopback.

Usage:
  wwload [run] [flags]   measure (the default command; see 'wwload run -h')
  wwload serve [flags]   the feed server the run starts as a child process
  wwload prefill [flags] fill a fresh store with fake items (run as a child by -prefill)
`

// runCLI dispatches a subcommand and returns the exit status.
func runCLI(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd, rest := "run", args
	if len(args) > 0 {
		switch args[0] {
		case "run", "serve", "prefill":
			cmd, rest = args[0], args[1:]
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stderr, usage)
			return 0
		}
	}
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, rest, stdin, stdout, stderr)
	case "prefill":
		err = cmdPrefill(ctx, rest, stdout, stderr)
	default:
		err = cmdRun(ctx, rest, stdout, stderr)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	default:
		fmt.Fprintf(stderr, "wwload %s: %v\n", cmd, err)
		return 1
	}
}
