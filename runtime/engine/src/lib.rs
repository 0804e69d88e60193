//! showrunner's frame loop: show model, worker pool ticking layers, transitions, into the compositor.
