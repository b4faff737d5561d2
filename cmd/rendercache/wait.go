package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rendercache/rendercache/client"
)

// waitFlags are the --wait flags of refresh, refresh-all and warm.
type waitFlags struct {
	wait     bool
	interval time.Duration
}

func (f *waitFlags) define(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.wait, "wait", false, "follow the jobs until each is done or failed, with a progress bar on a terminal; exit 1 if any failed")
	cmd.Flags().DurationVar(&f.interval, "poll-interval", 500*time.Millisecond, "how often --wait asks for the jobs' states")
}

// waitResult is the output of a --wait: the final state of every job.
type waitResult struct {
	Message   string       `json:"message"`
	Domain    string       `json:"domain,omitempty"`
	TotalJobs int          `json:"totalJobs"`
	Done      int          `json:"done"`
	Failed    int          `json:"failed"`
	Jobs      []client.Job `json:"jobs"`
}

// jobs prints the jobs a refresh or warm-up queued, or with --wait
// follows them to the end.
func (a *apiSettings) jobs(cmd *cobra.Command, c *client.Client, r client.JobsResult, f waitFlags) error {
	if !f.wait {
		return a.print(r, func(w io.Writer) {
			row(w, "JOB", "DOMAIN", "PATH")
			for _, j := range r.Jobs {
				d := j.Domain
				if d == "" {
					d = r.Domain
				}
				row(w, j.JobID, d, j.Path)
			}
			fmt.Fprintf(a.stderr, "%s: %d jobs; follow them with --wait or 'rendercache jobs get <job>'\n", r.Message, len(r.Jobs))
		})
	}
	final, err := a.follow(cmd.Context(), c, r.Jobs, f.interval)
	res := waitResult{Message: r.Message, Domain: r.Domain, TotalJobs: len(final), Jobs: final}
	for _, j := range final {
		switch j.Status {
		case client.JobDone:
			res.Done++
		case client.JobFailed:
			res.Failed++
		}
	}
	if err != nil {
		return fmt.Errorf("waiting for %d jobs (%d done, %d failed so far): %w", len(final), res.Done, res.Failed, err)
	}
	if perr := a.print(res, func(w io.Writer) {
		jobTable(w, final)
	}); perr != nil {
		return perr
	}
	fmt.Fprintf(a.stderr, "%d jobs: %d done, %d failed\n", res.TotalJobs, res.Done, res.Failed)
	if res.Failed > 0 {
		fmt.Fprintf(a.stderr, "rendercache: %d of %d jobs failed:\n", res.Failed, res.TotalJobs)
		for _, j := range final {
			if j.Status == client.JobFailed {
				fmt.Fprintf(a.stderr, "  %s %s%s (on %s): %s\n", j.JobID, j.Domain, j.Path, j.Node, j.Error)
			}
		}
		return errJobsFailed
	}
	return nil
}

// progress shows how many jobs finished: a bar on a terminal, plain
// lines otherwise.
type progress struct {
	bar   *progressbar.ProgressBar
	plain io.Writer
	total int
	last  string
}

func (a *apiSettings) newProgress(total int) *progress {
	p := &progress{total: total}
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(a.stderr),
			progressbar.OptionSetDescription("rendering"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(a.stderr) }),
		)
		return p
	}
	p.plain = a.stderr
	return p
}

// update shows done and failed of total.
func (p *progress) update(done, failed int) {
	desc := fmt.Sprintf("%d done, %d failed", done, failed)
	if p.bar != nil {
		p.bar.Describe("rendering: " + desc)
		p.bar.Set(done + failed)
		return
	}
	line := fmt.Sprintf("jobs: %d/%d finished (%s)", done+failed, p.total, desc)
	if line != p.last {
		fmt.Fprintln(p.plain, line)
		p.last = line
	}
}

// follow polls every job (on whichever node answers: any node knows
// every job) until each is done or failed, and returns their last states.
func (a *apiSettings) follow(ctx context.Context, c *client.Client, refs []client.JobRef, every time.Duration) ([]client.Job, error) {
	jobs := make([]client.Job, len(refs))
	for i, r := range refs {
		jobs[i] = client.Job{JobID: r.JobID, Domain: r.Domain, Path: r.Path, Status: client.JobQueued}
	}
	p := a.newProgress(len(jobs))
	defer func() {
		if p.bar != nil {
			p.bar.Exit()
		}
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if err := pollJobs(ctx, c, jobs); err != nil {
			return jobs, err
		}
		done, failed := 0, 0
		for _, j := range jobs {
			switch j.Status {
			case client.JobDone:
				done++
			case client.JobFailed:
				failed++
			}
		}
		p.update(done, failed)
		if done+failed == len(jobs) {
			if p.bar != nil {
				p.bar.Finish()
			}
			return jobs, nil
		}
		select {
		case <-ctx.Done():
			return jobs, ctx.Err()
		case <-tick.C:
		}
	}
}

// pollJobs refreshes the unfinished jobs, a few at a time.
func pollJobs(ctx context.Context, c *client.Client, jobs []client.Job) error {
	const workers = 4
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan int)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				j, err := c.Job(ctx, jobs[i].JobID)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("job %s: %w", jobs[i].JobID, err)
				} else if err == nil {
					jobs[i] = j
				}
				mu.Unlock()
			}
		}()
	}
	for i := range jobs {
		if !jobs[i].Finished() {
			next <- i
		}
	}
	close(next)
	wg.Wait()
	return firstErr
}
