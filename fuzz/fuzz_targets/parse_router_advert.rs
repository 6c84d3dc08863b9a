//! libFuzzer target: any bytes as a Router Advertisement (see
//! `slaacd_fuzz::parse_router_advert`). It must hold no logic of its own.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| slaacd_fuzz::parse_router_advert(data));
