//! MNIST and Fashion-MNIST in their IDX format: an image file (IDX3: `n × rows × cols` bytes)
//! and a label file (IDX1: `n` bytes), big-endian headers, each raw or gzipped as distributed.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::{ImageShape, Images};
use crate::error::{Error, Result};

/// Magic number of an IDX file of unsigned bytes with three dimensions (images).
const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with one dimension (labels).
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Reads an IDX3 image file and its IDX1 label file, each raw or gzipped (told apart by the
/// gzip magic bytes, not the file name). Labels become their decimal text ("0".."9" for MNIST).
/// Without a label file (images to predict on), each image is named by its index.
pub fn read_idx(images: &Path, labels: Option<&Path>) -> Result<Images> {
    let mut image_file = IdxFile::open(images)?;
    let dims = image_file.header(IMAGES_MAGIC, 3)?;
    let (n, height, width) = (dims[0], dims[1], dims[2]);
    let mut label_file = labels.map(IdxFile::open).transpose()?;
    let count = match &mut label_file {
        Some(file) => file.header(LABELS_MAGIC, 1)?[0],
        None => n,
    };
    if let (Some(labels), true) = (labels, count != n) {
        return Err(data_error(
            labels,
            format!(
                "holds {count} labels but {} holds {n} images",
                images.display()
            ),
        ));
    }
    if n == 0 {
        return Err(data_error(images, "holds no images".into()));
    }
    if height == 0 || width == 0 {
        let message = format!("its header gives images of {height}x{width} pixels");
        return Err(data_error(images, message));
    }
    let shape = ImageShape {
        height,
        width,
        channels: 1,
    };
    let pixels = image_file.body(&[n, height, width])?;
    let labels = match &mut label_file {
        Some(file) => file
            .body(&[n])?
            .into_iter()
            .map(|l| l.to_string())
            .collect(),
        None => (0..n).map(|i| i.to_string()).collect(),
    };
    Ok(Images {
        shape,
        pixels: pixels.into_iter().map(f64::from).collect(),
        labels,
        note: None,
    })
}

/// A bad-content error on `path`.
fn data_error(path: &Path, message: String) -> Error {
    Error::Data {
        path: path.to_owned(),
        line: None,
        column: None,
        message,
    }
}

/// One IDX file being read: its path, for messages, and its bytes, decompressed on the fly.
struct IdxFile<'a> {
    path: &'a Path,
    reader: Box<dyn Read>,
    gzip: bool,
}

impl<'a> IdxFile<'a> {
    /// Opens `path`, decompressing when its first two bytes are gzip's magic 1f 8b.
    fn open(path: &'a Path) -> Result<Self> {
        let mut file = BufReader::new(File::open(path).map_err(|e| Error::io(path, e))?);
        let start = std::io::BufRead::fill_buf(&mut file).map_err(|e| Error::io(path, e))?;
        let gzip = start.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn Read> = if gzip {
            Box::new(MultiGzDecoder::new(file))
        } else {
            Box::new(file)
        };
        Ok(IdxFile { path, reader, gzip })
    }

    /// Reads the header: checks the magic number, before anything else so that swapped files
    /// are named as such, and returns the `rank` dimensions.
    fn header(&mut self, magic: u32, rank: usize) -> Result<Vec<usize>> {
        let found = self.read_u32()?;
        if found != magic {
            let what = if magic == IMAGES_MAGIC {
                "an IDX3 image file"
            } else {
                "an IDX1 label file"
            };
            let message =
                format!("is not {what}: its magic number is 0x{found:08x}, expected 0x{magic:08x}");
            return Err(data_error(self.path, message));
        }
        (0..rank).map(|_| Ok(self.read_u32()? as usize)).collect()
    }

    /// One big-endian word of the header.
    fn read_u32(&mut self) -> Result<u32> {
        let mut word = [0u8; 4];
        self.reader
            .read_exact(&mut word)
            .map_err(|e| self.read_error(e, "its header is cut short"))?;
        Ok(u32::from_be_bytes(word))
    }

    /// Reads the data after the header, which must be exactly the `dims` bytes the header
    /// claims. Reads at most one byte more than that, without allocating the claim up front,
    /// so a header claiming absurd sizes costs no more memory than the file really holds.
    fn body(&mut self, dims: &[usize]) -> Result<Vec<u8>> {
        let claimed = dims.iter().try_fold(1u64, |p, &d| p.checked_mul(d as u64));
        let sizes = dims.iter().map(|d| d.to_string()).collect::<Vec<_>>();
        let Some(claimed) = claimed.filter(|&c| usize::try_from(c).is_ok()) else {
            let message = format!("its header claims an impossible size {}", sizes.join("x"));
            return Err(data_error(self.path, message));
        };
        let mut data = Vec::new();
        (&mut self.reader)
            .take(claimed.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|e| self.read_error(e, "its data is cut short"))?;
        let got = data.len() as u64;
        if got < claimed {
            let message = format!(
                "is truncated: its header claims {} ({claimed} bytes) but only {got} bytes follow",
                sizes.join("x")
            );
            return Err(data_error(self.path, message));
        }
        if got > claimed {
            let message = format!(
                "has bytes after the {} ({claimed} bytes) its header claims",
                sizes.join("x")
            );
            return Err(data_error(self.path, message));
        }
        Ok(data)
    }

    /// An error while reading: the end of the data comes `early`; a damaged gzip stream is
    /// bad content; anything else is an I/O failure.
    fn read_error(&self, e: std::io::Error, early: &str) -> Error {
        match e.kind() {
            ErrorKind::UnexpectedEof => data_error(self.path, early.into()),
            ErrorKind::InvalidInput | ErrorKind::InvalidData if self.gzip => {
                data_error(self.path, format!("is not a valid gzip file: {e}"))
            }
            _ => Error::io(self.path, e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::PathBuf;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    /// An IDX file: magic, dimensions, then `data`.
    fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut bytes = magic.to_be_bytes().to_vec();
        dims.iter().for_each(|d| bytes.extend(d.to_be_bytes()));
        bytes.extend(data);
        bytes
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// The error message of reading `images` with `labels`, checked to name `names`.
    fn refusal(images: &Path, labels: &Path, names: &Path) -> String {
        let message = read_idx(images, Some(labels)).unwrap_err().to_string();
        assert!(
            message.starts_with(&names.display().to_string()),
            "{message}"
        );
        message
    }

    #[test]
    fn reads_raw_and_gzipped_files_in_row_major_order() {
        let dir = tempfile::tempdir().unwrap();
        let pixels: Vec<u8> = (1..=12).collect();
        let raw = idx(IMAGES_MAGIC, &[2, 2, 3], &pixels);
        let labels = idx(LABELS_MAGIC, &[2], &[7, 0]);
        // The names say nothing: gzip is told by its magic bytes.
        let images_raw = write(dir.path(), "images.gz", &raw);
        let images_gz = write(dir.path(), "images.idx", &gzip(&raw));
        let labels_gz = write(dir.path(), "labels", &gzip(&labels));
        let labels_raw = write(dir.path(), "labels.raw", &labels);
        for (i, l) in [(&images_raw, &labels_gz), (&images_gz, &labels_raw)] {
            let read = read_idx(i, Some(l)).unwrap();
            assert_eq!(read.shape, ImageShape::parse("2x3x1").unwrap());
            assert_eq!(read.pixels, (1..=12).map(f64::from).collect::<Vec<_>>());
            assert_eq!(read.labels, ["7", "0"]);
            assert_eq!(read.note, None);
        }
        // Without labels (predict), images are named by their index.
        let unlabelled = read_idx(&images_gz, None).unwrap();
        assert_eq!(unlabelled.labels, ["0", "1"]);
        assert_eq!(unlabelled.pixels[11], 12.0);
        let data = read_idx(&images_raw, Some(&labels_raw))
            .unwrap()
            .into_dataset();
        assert_eq!(
            data.feature_names[..4],
            ["px_0_0", "px_0_1", "px_0_2", "px_1_0"]
        );
        assert_eq!(data.labels().unwrap(), ["0", "7"]);
    }

    #[test]
    fn refuses_a_wrong_magic_or_short_header() {
        let dir = tempfile::tempdir().unwrap();
        let images = write(dir.path(), "i", &idx(IMAGES_MAGIC, &[2, 1, 1], &[1, 2]));
        let labels = write(dir.path(), "l", &idx(LABELS_MAGIC, &[2], &[1, 2]));
        // The two files swapped: each has the other's magic number.
        let m = refusal(&labels, &images, &labels);
        assert!(
            m.contains("not an IDX3 image file") && m.contains("0x00000801"),
            "{m}"
        );
        let short = write(dir.path(), "short", &[0, 0, 8]);
        assert!(refusal(&short, &labels, &short).contains("header is cut short"));
    }

    #[test]
    fn refuses_a_count_mismatch_and_no_images() {
        let dir = tempfile::tempdir().unwrap();
        let images = write(dir.path(), "i", &idx(IMAGES_MAGIC, &[2, 1, 1], &[1, 2]));
        let three = write(dir.path(), "three", &idx(LABELS_MAGIC, &[3], &[1, 2, 3]));
        let m = refusal(&images, &three, &three);
        let expected = format!("holds 3 labels but {} holds 2 images", images.display());
        assert!(m.ends_with(&expected), "{m}");
        let none = write(dir.path(), "none", &idx(IMAGES_MAGIC, &[0, 28, 28], &[]));
        let no_labels = write(dir.path(), "nl", &idx(LABELS_MAGIC, &[0], &[]));
        assert!(refusal(&none, &no_labels, &none).contains("holds no images"));
    }

    #[test]
    fn refuses_truncated_trailing_and_damaged_data() {
        let dir = tempfile::tempdir().unwrap();
        let labels = write(dir.path(), "l", &idx(LABELS_MAGIC, &[2], &[1, 2]));
        let cut = idx(IMAGES_MAGIC, &[2, 2, 2], &[0; 7]);
        for cut in [
            write(dir.path(), "cut", &cut),
            write(dir.path(), "cut.gz", &gzip(&cut)),
        ] {
            let m = refusal(&cut, &labels, &cut);
            assert!(m.contains("truncated") && m.contains("only 7 bytes"), "{m}");
        }
        let long = write(dir.path(), "long", &idx(IMAGES_MAGIC, &[2, 2, 2], &[0; 9]));
        assert!(refusal(&long, &labels, &long).contains("has bytes after"));
        let extra = write(dir.path(), "extra", &idx(LABELS_MAGIC, &[2], &[1, 2, 3]));
        let images = write(dir.path(), "i", &idx(IMAGES_MAGIC, &[2, 1, 1], &[1, 2]));
        assert!(refusal(&images, &extra, &extra).contains("has bytes after"));
        // A damaged gzip stream: a flipped bit in its checksum.
        let mut damaged = gzip(&idx(IMAGES_MAGIC, &[2, 1, 1], &[1, 2]));
        let crc = damaged.len() - 8;
        damaged[crc] ^= 1;
        let damaged = write(dir.path(), "damaged.gz", &damaged);
        let m = refusal(&damaged, &labels, &damaged);
        assert!(m.contains("is not a valid gzip file"), "{m}");
    }

    #[test]
    fn refuses_headers_claiming_absurd_sizes_without_allocating_them() {
        let dir = tempfile::tempdir().unwrap();
        // Headers claiming terabytes, or more than 64 bits can count, over a few bytes.
        let labels_max = write(dir.path(), "lm", &idx(LABELS_MAGIC, &[u32::MAX], &[1]));
        let huge = idx(IMAGES_MAGIC, &[u32::MAX, 1000, 1000], &[0; 5]);
        for huge in [
            write(dir.path(), "h", &huge),
            write(dir.path(), "h.gz", &gzip(&huge)),
        ] {
            assert!(refusal(&huge, &labels_max, &huge).contains("truncated"));
        }
        let impossible = idx(IMAGES_MAGIC, &[u32::MAX; 3], &[0; 5]);
        let impossible = write(dir.path(), "x", &impossible);
        assert!(refusal(&impossible, &labels_max, &impossible).contains("impossible size"));
    }
}
