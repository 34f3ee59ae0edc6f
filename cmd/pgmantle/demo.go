package main

import (
	"errors"
	"io"
)

func demoCmd(args []string, stdout, stderr io.Writer) error {
	return errors.New("demo: not yet")
}
