//! Cap'n Proto frames of `schemas/ring.capnp` and `schemas/control.capnp`.
//!
//! The typed readers and builders live in [`ring`] and [`control`] (generated from the schemas by
//! `gen/gen_frames.py` into `frames_gen.rs`); this module adds the runtime they are built on and
//! the stream-framing helpers. Decoding never panics on untrusted bytes: every read goes through
//! [`reader_options`] limits and bad input becomes an [`Error`](crate::Error).

use capnp::message::{self, HeapAllocator, ReaderOptions};
use capnp::serialize::{self, SliceSegments};
use capnp::Word;

pub use crate::frames_gen::{control, ring};

/// Nesting depth allowed in a frame: the schemas need 4, the margin is for later additions.
pub const MAX_NESTING: i32 = 16;

/// Reader limits for a frame of `frame_bytes` bytes: the traversal limit bounds the work a
/// malicious frame can cause (pointer amplification) to a small multiple of its size.
pub fn reader_options(frame_bytes: usize) -> ReaderOptions {
    let mut options = ReaderOptions::new();
    options.traversal_limit_in_words(Some(frame_bytes / 8 * 4 + 1024)).nesting_limit(MAX_NESTING);
    options
}

/// Total length of the stream-framed message that starts `bytes`, once enough of its segment
/// table is present: `None` when more bytes are needed to know, an error when the table is absurd.
pub fn stream_frame_len(bytes: &[u8], max_bytes: usize) -> Result<Option<usize>, crate::Error> {
    let word = |i: usize| -> Option<usize> {
        bytes.get(i * 4..i * 4 + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let segments = match word(0) {
        Some(n) => n + 1,
        None => return Ok(None),
    };
    if segments > 512 {
        return Err(crate::Error::Protocol(format!("frame claims {segments} segments")));
    }
    let table_bytes = (4 + 4 * segments + 7) / 8 * 8;
    let mut total = table_bytes;
    for i in 0..segments {
        match word(1 + i) {
            Some(words) => total = total.saturating_add(words.saturating_mul(8)),
            None => return Ok(None),
        }
    }
    if total > max_bytes {
        return Err(crate::Error::Protocol(format!("frame of {total} bytes exceeds {max_bytes}")));
    }
    Ok(Some(total))
}

/// A decoded stream-framed message borrowing 8-byte aligned bytes.
pub struct Frame<'b> {
    message: message::Reader<SliceSegments<'b>>,
}

impl<'b> Frame<'b> {
    /// Parses the segment table of `bytes` (which must be 8-byte aligned; trailing bytes after the
    /// message are ignored). Field reads are checked later, lazily, against [`reader_options`].
    pub fn parse(bytes: &'b [u8]) -> Result<Frame<'b>, crate::Error> {
        if bytes.as_ptr() as usize % 8 != 0 {
            return Err(crate::Error::Protocol("frame is not 8-byte aligned".into()));
        }
        let mut slice = bytes;
        let message = serialize::read_message_from_flat_slice(&mut slice, reader_options(bytes.len()))
            .map_err(crate::Error::frame)?;
        Ok(Frame { message })
    }

    /// The root struct, read as `T` (for example [`ring::kernel_to_coprocessor::Reader`]).
    pub fn root<'r, T: capnp::traits::FromPointerReader<'r>>(&'r self) -> Result<T, crate::Error> {
        self.message.get_root::<T>().map_err(crate::Error::frame)
    }
}

/// An 8-byte aligned copy of a frame's bytes, for frames that arrive unaligned (sockets, ZeroMQ)
/// or must not be read in place (shared memory the peer can still write).
#[derive(Default)]
pub struct AlignedBuf {
    words: Vec<Word>,
    len: usize,
}

impl AlignedBuf {
    /// An empty buffer; it grows on demand and keeps its capacity across [`AlignedBuf::fill`]s.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the contents with `len` bytes written by `write` into an aligned, zeroed area.
    pub fn fill_with(&mut self, len: usize, write: impl FnOnce(&mut [u8])) -> &[u8] {
        let words = (len + 7) / 8;
        if self.words.len() < words {
            self.words = Word::allocate_zeroed_vec(words);
        }
        self.len = len;
        let bytes = &mut Word::words_to_bytes_mut(&mut self.words)[..len];
        write(bytes);
        bytes
    }

    /// Replaces the contents with a copy of `bytes`.
    pub fn fill(&mut self, bytes: &[u8]) -> &[u8] {
        self.fill_with(bytes.len(), |dst| dst.copy_from_slice(bytes))
    }

    /// The current contents (8-byte aligned).
    pub fn bytes(&self) -> &[u8] {
        &Word::words_to_bytes(&self.words)[..self.len]
    }
}

/// Builds one message with `build` and returns it in standard stream framing.
///
/// ```
/// use herz_coproc::frames::{encode, ring};
/// let bytes = encode(|m| {
///     let mut end = m.init_root::<ring::kernel_to_coprocessor::Builder>().init_stream_end();
///     end.set_stream_id(7);
/// });
/// assert_eq!(bytes.len() % 8, 0);
/// ```
pub fn encode(build: impl FnOnce(&mut message::Builder<HeapAllocator>)) -> Vec<u8> {
    let mut message = message::Builder::new_default();
    build(&mut message);
    serialize::write_message_to_words(&message)
}

pub use runtime::{DataList, DataListBuilder, StructList, StructListBuilder, TextList, TextListBuilder};

/// The support the generated readers and builders are written against (capnp's layout API plus
/// typed list views).
pub mod runtime {
    use std::marker::PhantomData;

    #[doc(hidden)]
    pub use capnp::private::layout::{
        ElementSize, ListBuilder, ListReader, PointerBuilder, PointerReader, StructBuilder, StructReader, StructSize,
    };
    #[doc(hidden)]
    pub use capnp::traits::{FromPointerBuilder, FromPointerReader, FromStructBuilder, FromStructReader, HasStructSize};
    #[doc(hidden)]
    pub use capnp::{NotInSchema, Result, Word};

    #[doc(hidden)]
    pub fn not_in_schema(what: &str, discriminant: u16) -> capnp::Error {
        capnp::Error::failed(format!("{what}: union discriminant {discriminant} is not in the schema"))
    }

    /// A `List(Struct)` being read.
    #[derive(Clone, Copy)]
    pub struct StructList<'a, T> {
        list: ListReader<'a>,
        element: PhantomData<T>,
    }

    impl<'a, T: FromStructReader<'a>> StructList<'a, T> {
        pub(crate) fn read(pointer: PointerReader<'a>) -> Result<Self> {
            Ok(StructList { list: pointer.get_list(ElementSize::InlineComposite, None)?, element: PhantomData })
        }

        /// Number of elements.
        pub fn len(&self) -> u32 {
            self.list.len()
        }

        /// True when the list has no elements (or is null).
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        /// Element `index`, or `None` past the end.
        pub fn get(&self, index: u32) -> Option<T> {
            (index < self.len()).then(|| T::new(self.list.get_struct_element(index)))
        }

        /// The elements in order.
        pub fn iter(&self) -> impl Iterator<Item = T> + 'a {
            let list = self.list;
            (0..list.len()).map(move |i| T::new(list.get_struct_element(i)))
        }
    }

    macro_rules! blob_list {
        ($(#[$doc:meta])* $name:ident, $builder:ident, $item:ty, $get:ident, $set:ident) => {
            $(#[$doc])*
            #[derive(Clone, Copy)]
            pub struct $name<'a> {
                list: ListReader<'a>,
            }

            impl<'a> $name<'a> {
                pub(crate) fn read(pointer: PointerReader<'a>) -> Result<Self> {
                    Ok($name { list: pointer.get_list(ElementSize::Pointer, None)? })
                }

                /// Number of elements.
                pub fn len(&self) -> u32 {
                    self.list.len()
                }

                /// True when the list has no elements (or is null).
                pub fn is_empty(&self) -> bool {
                    self.len() == 0
                }

                /// Element `index` (an error past the end or when it does not decode).
                pub fn get(&self, index: u32) -> Result<&'a $item> {
                    if index >= self.len() {
                        return Err(capnp::Error::failed(format!("index {index} past the list's end")));
                    }
                    self.list.get_pointer_element(index).$get(None)
                }

                /// The elements in order.
                pub fn iter(&self) -> impl Iterator<Item = Result<&'a $item>> + 'a {
                    let this = *self;
                    (0..this.len()).map(move |i| this.get(i))
                }
            }

            /// Fills a list of the same element type inside a message being built.
            pub struct $builder<'a> {
                list: ListBuilder<'a>,
            }

            impl<'a> $builder<'a> {
                pub(crate) fn init(pointer: PointerBuilder<'a>, len: u32) -> Self {
                    $builder { list: pointer.init_list(ElementSize::Pointer, len) }
                }

                /// Sets element `index` (panics past the length given at init, like slice indexing).
                pub fn set(&mut self, index: u32, value: &$item) {
                    assert!(index < self.list.len(), "index {index} past the list's end");
                    self.list.get_pointer_element(index).$set(value);
                }
            }
        };
    }

    blob_list!(
        /// A `List(Text)` being read.
        TextList, TextListBuilder, str, get_text, set_text
    );
    blob_list!(
        /// A `List(Data)` being read.
        DataList, DataListBuilder, [u8], get_data, set_data
    );

    /// Fills a `List(Struct)` inside a message being built.
    pub struct StructListBuilder<'a, T> {
        list: ListBuilder<'a>,
        element: PhantomData<T>,
    }

    impl<'a, T: FromStructBuilder<'a> + HasStructSize> StructListBuilder<'a, T> {
        pub(crate) fn init(pointer: PointerBuilder<'a>, len: u32) -> Self {
            StructListBuilder { list: pointer.init_struct_list(len, T::struct_size()), element: PhantomData }
        }

        /// Number of elements (fixed at init).
        pub fn len(&self) -> u32 {
            self.list.len()
        }

        /// True when the list was initialised empty.
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        /// Builder of element `index` (panics past the length given at init, like slice indexing).
        pub fn get(&mut self, index: u32) -> T {
            assert!(index < self.len(), "index {index} past the list's end");
            T::new(self.list.get_struct_element(index))
        }
    }
}
