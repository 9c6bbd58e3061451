package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The children: the feed server and the prefill run as separate
// processes of this same executable, so that the measured process holds
// nothing but wirewatch and the harness's small bookkeeping.

// child starts this executable with args, its stderr passed through.
func child(ctx context.Context, args []string, stderr io.Writer) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = stderr
	return cmd, nil
}

// startServer starts `wwload serve` and waits for its serverInfo line.
func startServer(ctx context.Context, args []string, stderr io.Writer) (*serverProc, error) {
	cmd, err := child(ctx, args, stderr)
	if err != nil {
		return nil, err
	}
	// GOGC and GOMEMLIMIT are for the measured process: the server holds
	// every feed in memory (hundreds of MiB at 10,000 sources), and a
	// memory limit meant for wirewatch made it collect garbage nonstop.
	cmd.Env = withoutGCSettings(os.Environ())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start feed server: %w", err)
	}
	stop := func() error {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			return errors.Join(errors.New("did not stop within 10s; killed"), <-done)
		}
	}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		return nil, errors.Join(fmt.Errorf("feed server did not start: %w", err), stop())
	}
	var info serverInfo
	if err := json.Unmarshal(line, &info); err != nil {
		return nil, errors.Join(fmt.Errorf("feed server: bad ready line %q: %w", line, err), stop())
	}
	return &serverProc{info: info, stop: stop, client: &http.Client{Timeout: 5 * time.Minute}}, nil
}

// runPrefill fills path in a `wwload prefill` child.
func runPrefill(ctx context.Context, path string, m, batch int, topicsPath string, stderr io.Writer) (*prefillResult, error) {
	cmd, err := child(ctx, []string{"prefill", "-db", path, "-m", strconv.Itoa(m), "-batch", strconv.Itoa(batch),
		"-topics", topicsPath}, stderr)
	if err != nil {
		return nil, err
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("prefill (%s): %w", exitCodeOf(cmd.ProcessState), err)
	}
	var res prefillResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("prefill: bad result %q: %w", out, err)
	}
	return &res, nil
}

// copyDB copies a closed SQLite database (and its WAL, if any) to a fresh
// path.
func copyDB(from, to string) error {
	for _, suffix := range []string{"", "-wal"} {
		src, err := os.Open(from + suffix)
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			return err
		}
		dst, err := os.OpenFile(to+suffix, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			src.Close()
			return err
		}
		_, err = io.Copy(dst, src)
		if err := errors.Join(err, dst.Close(), src.Close()); err != nil {
			return err
		}
	}
	return nil
}

func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
}

// withoutGCSettings returns env without the Go runtime's garbage
// collector settings.
func withoutGCSettings(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return strings.HasPrefix(kv, "GOGC=") || strings.HasPrefix(kv, "GOMEMLIMIT=")
	})
}
