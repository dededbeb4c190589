#![no_main]
// The body lives in rdbscope-harness so the test suite replays it too.
libfuzzer_sys::fuzz_target!(|data: &[u8]| rdbscope_harness::value_cursors(data));
