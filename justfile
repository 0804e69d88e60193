# Shortcuts for people who have `just`; every recipe forwards to `cargo xtask`.

default: demo

setup:
    cargo xtask setup

build-scenes:
    cargo xtask build-scenes

demo:
    cargo xtask demo

test *ARGS:
    cargo xtask test {{ARGS}}

bench:
    cargo xtask bench
