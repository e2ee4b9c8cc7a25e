// Package image holds the tests of the container image: the repository's
// Dockerfile, checked line by line, and scripts/image.sh, the image's build
// steps, run without Docker. It has no code of its own.
package image
