package main

import "syscall"

// umask reads the process umask (setting it back at once: the CLI asks
// before any goroutine that creates files is started).
func umask() uint32 {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return uint32(m)
}
