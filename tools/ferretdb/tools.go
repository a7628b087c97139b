//go:build tools

// Package tools records the FerretDB command that TaskDash builds for local
// runs and tests, so that go.mod and go.sum keep its dependencies.
//
// NOTE: "go build github.com/FerretDB/FerretDB/cmd/ferretdb" here, and "go
// install ...@v1.24.2", produce a binary that panics at startup, because the
// module zip lacks build/version/version.txt. scripts/build-tools.sh builds
// from a copy of the module source with that file added.
package tools

import (
	_ "github.com/FerretDB/FerretDB/cmd/ferretdb"
)
