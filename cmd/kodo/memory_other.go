//go:build !linux

package main

// machineMemory is unknown off Linux: no memory limit is derived.
func machineMemory() int64 { return 0 }
