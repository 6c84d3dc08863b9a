//! libFuzzer target: any bytes as an engine script (see
//! `slaacd_fuzz::engine_sequence`). It must hold no logic of its own.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| slaacd_fuzz::engine_sequence(data));
