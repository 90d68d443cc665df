// goserver: a pure-Go program (CGO_ENABLED=0), whose binds no preloaded library
// sees. `goserver serve PORT` runs an HTTP server on :PORT and prints its address;
// `goserver exec PROGRAM ARG...` replaces itself with another program;
// `goserver spawn PROGRAM ARG...` runs another program as its child.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 3 {
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		ln, err := net.Listen("tcp", ":"+os.Args[2])
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("listening", ln.Addr())
		http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "ok")
		}))
	case "exec":
		err := syscall.Exec(os.Args[2], os.Args[2:], os.Environ())
		fmt.Println("error", err)
		os.Exit(1)
	case "spawn":
		cmd := exec.Command(os.Args[2], os.Args[3:]...)
		cmd.Stdout = os.Stdout
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
	}
}
