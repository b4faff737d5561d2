package render

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// DefaultNiceness is how much lower Chromium's CPU priority is than the
// node's. Renders can saturate every core for seconds at a time; at equal
// priority the Go scheduler's raft heartbeats and gossip probes then wait
// behind Chromium's renderer processes, and a leader that misses its lease
// steps down. With a niceness of 10 the kernel gives the node's own
// threads about ten times Chromium's share whenever both want the CPU, and
// Chromium still has every idle cycle.
const DefaultNiceness = 10

// lowPriority returns chromedp's ModifyCmdFunc that starts Chromium under
// nice(1) with the given increment, so that the browser and every process
// it forks (zygote, renderers, utilities) inherit the lower priority. It
// keeps what chromedp does by default on Linux: the browser is killed when
// the node dies.
//
// Chromium sets its threads' nice values itself (0 for most, -8 for the
// ones it deems display-critical), absolutely, which undoes nice whenever
// it holds CAP_SYS_NICE, as it does when the node runs as root
// (containers, CI). So as root the browser also starts under setpriv(1)
// without CAP_SYS_NICE in its bounding set: it may then lower its
// priority further but never raise it back. Without a nice binary on
// PATH the browser runs at the node's priority.
func lowPriority(niceness int) func(*exec.Cmd) {
	nice, err := exec.LookPath("nice")
	setpriv, serr := exec.LookPath("setpriv")
	return func(cmd *exec.Cmd) {
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = new(syscall.SysProcAttr)
		}
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
		if niceness <= 0 || err != nil {
			return
		}
		// nice and setpriv exec the browser in the same process, so the
		// pid that chromedp watches and kills is Chromium's own.
		args := append([]string{"nice", "-n", strconv.Itoa(niceness), cmd.Path}, cmd.Args[1:]...)
		path := nice
		if os.Geteuid() == 0 && serr == nil {
			args = append([]string{"setpriv", "--bounding-set", "-sys_nice", nice}, args[1:]...)
			path = setpriv
		}
		cmd.Path, cmd.Args = path, args
	}
}
