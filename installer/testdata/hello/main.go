// Command hello is a tiny Windows program for the signing tests.
package main

import "fmt"

func main() { fmt.Println("hello") }
