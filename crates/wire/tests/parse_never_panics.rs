//! Property tests: the parser never panics, and whatever it accepts emits
//! bytes that parse back to the same advertisement.

use proptest::prelude::*;
use slaacd_wire::RouterAdvert;

/// Random bytes behind a valid RA header, so options get exercised.
fn advert_like() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..600).prop_map(|tail| {
        let mut bytes = vec![134, 0, 0, 0, 64, 0, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0];
        bytes.extend_from_slice(&tail);
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1600)) {
        let _ = RouterAdvert::parse(&bytes);
    }

    #[test]
    fn whatever_parses_is_stable_under_emit_and_parse(bytes in advert_like()) {
        if let Ok(ra) = RouterAdvert::parse(&bytes) {
            let emitted = ra.emit();
            prop_assert_eq!(RouterAdvert::parse(&emitted), Ok(ra));
        }
    }
}
