//! Gzip bodies without a compression crate (RFC 1951/1952): [`gzip_stored`] wraps any
//! bytes in a valid gzip member of stored (uncompressed) deflate blocks; [`gzip_bomb`]
//! writes `len` copies of one byte as fixed-Huffman back-references, about 160 times
//! smaller than what it inflates to.

const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// `data` as a gzip member of stored deflate blocks.
pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = HEADER.to_vec();
    let mut blocks = data.chunks(0xFFFF).peekable();
    if blocks.peek().is_none() {
        out.extend([1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(block) = blocks.next() {
        let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
        out.push(u8::from(blocks.peek().is_none()));
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend(block);
    }
    trailer(&mut out, crc32(data.iter().copied()), data.len());
    out
}

/// `len` (at least 1) copies of `byte` (below 144) as a gzip member: one literal, then
/// back-references of 258 bytes at distance 1 (13 bits each), then literals.
///
/// # Panics
///
/// If `byte` is 144 or more (a 9-bit literal code) or `len` is 0.
pub fn gzip_bomb(byte: u8, len: usize) -> Vec<u8> {
    assert!(
        byte < 144 && len > 0,
        "one 8-bit literal code, at least one byte"
    );
    let mut bits = Bits::default();
    bits.put(1, 1); // the final block
    bits.put(1, 2); // fixed Huffman codes
    bits.code(0x30 + u32::from(byte), 8);
    let (matches, rest) = ((len - 1) / 258, (len - 1) % 258);
    for _ in 0..matches {
        bits.code(0xC5, 8); // length symbol 285: 258 bytes
        bits.put(0, 5); // distance symbol 0: distance 1
    }
    for _ in 0..rest {
        bits.code(0x30 + u32::from(byte), 8);
    }
    bits.code(0, 7); // end of block
    let mut out = HEADER.to_vec();
    out.extend(bits.finish());
    trailer(&mut out, crc32(std::iter::repeat_n(byte, len)), len);
    out
}

fn trailer(out: &mut Vec<u8>, crc: u32, len: usize) {
    out.extend(crc.to_le_bytes());
    // ISIZE is the length modulo 2^32.
    out.extend(((len & 0xFFFF_FFFF) as u32).to_le_bytes());
}

/// The CRC-32 (ISO 3309) gzip's trailer holds.
fn crc32(data: impl Iterator<Item = u8>) -> u32 {
    let mut table = [0_u32; 256];
    for (n, slot) in (0_u32..).zip(table.iter_mut()) {
        *slot = (0..8).fold(n, |c, _| {
            if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            }
        });
    }
    !data.fold(!0_u32, |c, b| table[usize::from((c as u8) ^ b)] ^ (c >> 8))
}

/// A deflate bit stream: values go in least significant bit first, Huffman codes most
/// significant bit first.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, width: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += width;
        while self.n >= 8 {
            self.out.push((self.acc & 0xFF) as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    fn code(&mut self, code: u32, width: u32) {
        self.put(code.reverse_bits() >> (32 - width), width);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push((self.acc & 0xFF) as u8);
        }
        self.out
    }
}
