//! Several sealed fields of one row in one column. Each field is a frame: its position
//! and its length (4 bytes each, big-endian), then its sealed bytes. Migration 0008
//! builds the same frames in SQL from the rows it folds in.

const HEADER: usize = 8;

/// Frames `(position, sealed)` pairs in the order given.
pub fn pack<'a>(fields: impl IntoIterator<Item = (u32, &'a [u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    for (position, sealed) in fields {
        let len = u32::try_from(sealed.len()).expect("a sealed field is far below 4 GiB");
        out.extend_from_slice(&position.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(sealed);
    }
    out
}

/// The `(position, sealed)` pairs of a packed column; `None` when the bytes are not
/// whole frames.
pub fn unpack(bytes: &[u8]) -> Option<Vec<(u32, &[u8])>> {
    // Counted first, so the list is allocated once: a search unpacks a column per
    // result, and growing each list from empty showed in its profile.
    let frames = frames(bytes);
    let mut fields = Vec::with_capacity(frames.clone().count());
    for frame in frames {
        fields.push(frame?);
    }
    Some(fields)
}

/// The frames of a packed column, read as they are needed.
pub(crate) fn frames(bytes: &[u8]) -> Frames<'_> {
    Frames(bytes)
}

/// The frames of a packed column, in order; a `None` item where the bytes stop being
/// whole frames, and nothing after it.
#[derive(Clone)]
pub(crate) struct Frames<'a>(&'a [u8]);

impl<'a> Iterator for Frames<'a> {
    type Item = Option<(u32, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let frame = split_frame(self.0);
        self.0 = match frame {
            Some((_, _, rest)) => rest,
            None => &[],
        };
        Some(frame.map(|(position, sealed, _)| (position, sealed)))
    }
}

/// The first frame of `bytes` and what follows it.
fn split_frame(bytes: &[u8]) -> Option<(u32, &[u8], &[u8])> {
    let (header, rest) = bytes.split_at_checked(HEADER)?;
    let position = u32::from_be_bytes(header[..4].try_into().ok()?);
    let len = u32::from_be_bytes(header[4..].try_into().ok()?) as usize;
    let (sealed, rest) = rest.split_at_checked(len)?;
    Some((position, sealed, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_in_order() {
        let packed = pack([(0, &b"ab"[..]), (3, &b""[..]), (1, &[7u8; 300][..])]);
        let fields = unpack(&packed).unwrap();
        assert_eq!(fields, vec![(0, &b"ab"[..]), (3, &b""[..]), (1, &[7u8; 300][..])]);
        assert_eq!(unpack(&[]).unwrap(), Vec::<(u32, &[u8])>::new());
    }

    #[test]
    fn truncated_frames_are_refused() {
        let packed = pack([(0, &b"abc"[..])]);
        for cut in 1..packed.len() {
            assert!(unpack(&packed[..cut]).is_none(), "cut at {cut}");
        }
    }
}
