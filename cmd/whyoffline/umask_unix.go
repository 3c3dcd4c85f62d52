package main

import "syscall"

// umask reads the process umask (setting it back at once: the CLI asks
// before any goroutine that creates files is started).
func umask() uint32 {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return uint32(m)
}

// fileOwner is the uid that owns a file (-1 when the system does not say).
func fileOwner(st interface{ Sys() any }) int {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(s.Uid)
	}
	return -1
}
