//! Streaming pattern replacement across body chunks.

/// Replaces every occurrence of a pattern in a byte stream that arrives in chunks, including
/// occurrences that straddle chunk boundaries: up to `pattern.len() - 1` trailing bytes that
/// could start an occurrence are held back and emitted with the next chunk (or at the end).
#[derive(Debug, Default)]
pub struct StreamingReplacer {
    held: Vec<u8>,
}

impl StreamingReplacer {
    /// Feeds one chunk and returns the bytes that can be released now. With `end_stream` nothing
    /// is held back. An empty `pattern` matches nothing.
    pub fn push(&mut self, pattern: &[u8], replacement: &[u8], chunk: &[u8], end_stream: bool) -> Vec<u8> {
        let mut data = std::mem::take(&mut self.held);
        data.extend_from_slice(chunk);
        if pattern.is_empty() {
            return data;
        }
        let mut out = Vec::with_capacity(data.len());
        let mut i = 0;
        while i < data.len() {
            let rest = &data[i..];
            if rest.starts_with(pattern) {
                out.extend_from_slice(replacement);
                i += pattern.len();
            } else if !end_stream && rest.len() < pattern.len() && pattern.starts_with(rest) {
                self.held = rest.to_vec();
                break;
            } else {
                out.push(data[i]);
                i += 1;
            }
        }
        out
    }

    /// Bytes currently held back.
    pub fn held(&self) -> usize {
        self.held.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(input: &[u8], pattern: &[u8], replacement: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < input.len() {
            if input[i..].starts_with(pattern) {
                out.extend_from_slice(replacement);
                i += pattern.len();
            } else {
                out.push(input[i]);
                i += 1;
            }
        }
        out
    }

    /// Every way to cut `input` into chunks at up to two points, plus every fixed chunk size.
    fn chunkings(len: usize) -> Vec<Vec<usize>> {
        let mut cuts = Vec::new();
        for a in 0..=len {
            for b in a..=len {
                cuts.push(vec![a, b]);
            }
        }
        for size in 1..=len.max(1) {
            cuts.push((size..len).step_by(size).collect());
        }
        cuts
    }

    fn run(input: &[u8], cuts: &[usize], pattern: &[u8]) -> Vec<u8> {
        let mut replacer = StreamingReplacer::default();
        let mut out = Vec::new();
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
            let last = cut == input.len();
            out.extend(replacer.push(pattern, b"***", &input[start..cut], last));
            assert!(replacer.held() < pattern.len().max(1));
            start = cut;
            if last {
                break;
            }
        }
        out
    }

    #[test]
    fn matches_the_one_shot_replacement_for_every_chunking() {
        let inputs: [&[u8]; 7] = [
            b"my secret is secret",
            b"secretsecret",
            b"sesecret ssecrett secre",
            b"no match here",
            b"secre",
            b"",
            b"ssssecretsecresecret!",
        ];
        for input in inputs {
            for cuts in chunkings(input.len()) {
                assert_eq!(run(input, &cuts, b"secret"), reference(input, b"secret", b"***"), "{input:?} cut at {cuts:?}");
            }
        }
    }

    #[test]
    fn self_overlapping_pattern() {
        for cuts in chunkings(9) {
            assert_eq!(run(b"aaabaaaab", &cuts, b"aab"), reference(b"aaabaaaab", b"aab", b"***"));
        }
    }

    #[test]
    fn held_bytes_are_released_at_the_end() {
        let mut r = StreamingReplacer::default();
        assert_eq!(r.push(b"secret", b"***", b"top sec", false), b"top ");
        assert_eq!(r.held(), 3);
        assert_eq!(r.push(b"secret", b"***", b"", true), b"sec");
    }
}
