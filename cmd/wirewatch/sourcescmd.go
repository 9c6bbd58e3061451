package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"
)

// cmdSources lists sources with their health, or imports and exports them
// as OPML (see opml.go).
func cmdSources(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "import":
			return cmdSourcesImport(ctx, args[1:], stdout, stderr)
		case "export":
			return cmdSourcesExport(ctx, args[1:], stdout, stderr)
		}
	}
	fs := newFlags("sources", `List sources with their health: state (new, ok, failing, failed, silent) and reason,
last success, last error, items per day over the last week, and the next poll (after any
backoff or interval the publisher asked for).

  wirewatch sources --config F [--json]
  wirewatch sources import --config F FILE.opml    # print source entries for the config
  wirewatch sources export --config F > subscriptions.opml`, stderr)
	path := configFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, st, err := openOps(ctx, *path)
	if err != nil {
		return err
	}
	defer st.Close()
	views, err := sourceViews(ctx, cfg, st, time.Now())
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, map[string]any{"sources": views})
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tSTATE\tLAST SUCCESS\tITEMS/DAY\tNEXT POLL\tLAST ERROR")
	for _, v := range views {
		state := v.State
		if v.Reason != "" && v.State != "ok" {
			state += " (" + v.Reason + ")"
		}
		next := timeOrDash(v.NextPoll)
		if v.AskedInterval != "" {
			next += " (asks " + v.AskedInterval + ")"
		}
		lastErr := oneLine(v.LastError, 70)
		if v.MovedTo != "" {
			lastErr = "moved to " + v.MovedTo
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, state, timeOrDash(v.LastSuccess),
			strconv.FormatFloat(v.ItemsPerDay, 'f', 1, 64), next, lastErr)
	}
	return tw.Flush()
}
