//! A folder of PNG/JPEG files with one subfolder per class (`DIR/cat/1.png`, `DIR/dog/a.jpg`),
//! the layout most image datasets are shipped in and the easiest for users to make.

use std::path::{Path, PathBuf};

use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageBuffer, Pixel};

use super::{ImageShape, Images, sort_natural_by};
use crate::error::{Error, Result};

/// One decoded image and where it came from.
struct Decoded {
    /// Index into the class names.
    class: usize,
    /// `class/file`, for messages.
    name: String,
    image: DynamicImage,
}

/// Reads every PNG/JPEG file under `dir`, one subfolder per class (class names in natural
/// order, files in name order, hidden files and other extensions ignored). Grey images stay
/// one channel unless some image has colour; then all become RGB (alpha dropped). With `size`
/// `(height, width)`, images of another size are resized to it; without, all must agree. With
/// `channels` (1 or 3), every image is converted to that many, as a trained model needs.
pub fn read_folder(
    dir: &Path,
    size: Option<(usize, usize)>,
    channels: Option<usize>,
) -> Result<Images> {
    size.map(check_size).transpose()?;
    check_folder(dir)?;
    let mut classes: Vec<(String, PathBuf)> = entries(dir)?
        .into_iter()
        .filter(|(_, path)| path.is_dir())
        .collect();
    if classes.is_empty() {
        let message = "has no class subfolders: put each class's images in a subfolder named \
                       after the class";
        return Err(data_error(dir, message.into()));
    }
    sort_natural_by(&mut classes, |(name, _)| name);
    let mut decoded = Vec::new();
    for (class, (name, path)) in classes.iter().enumerate() {
        let files = image_files(path)?;
        if files.is_empty() {
            return Err(data_error(path, "class folder has no images".into()));
        }
        for (file, path) in files {
            let name = format!("{name}/{file}");
            let image = decode(&path)?;
            decoded.push(Decoded { class, name, image });
        }
    }
    let (height, width) = match size {
        Some(size) => check_memory(size, decoded.len())?,
        None => common_size(dir, &decoded)?,
    };
    let colour = decoded.iter().any(|d| d.image.color().has_color());
    let shape = ImageShape {
        height,
        width,
        channels: channels.unwrap_or(if colour { 3 } else { 1 }),
    };
    let labels = decoded.iter().map(|d| classes[d.class].0.clone()).collect();
    let (pixels, note) = to_pixels(decoded.into_iter().map(|d| d.image), shape);
    Ok(Images {
        shape,
        pixels,
        labels,
        note,
    })
}

/// Reads images to predict on: one image file, or every PNG/JPEG file in a folder and in its
/// subfolders (class folders or not), each converted and resized to `shape`. Returns each
/// image's name (`file` or `subfolder/file`) with the images.
pub fn read_unlabelled(path: &Path, shape: ImageShape) -> Result<Images> {
    let files = if path.is_file() {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        vec![(name.unwrap_or_default(), path.to_owned())]
    } else {
        check_folder(path)?;
        let mut files = image_files(path)?;
        for (sub, dir) in entries(path)?.into_iter().filter(|(_, p)| p.is_dir()) {
            let inside = image_files(&dir)?.into_iter();
            files.extend(inside.map(|(file, p)| (format!("{sub}/{file}"), p)));
        }
        files
    };
    if files.is_empty() {
        return Err(data_error(path, "holds no PNG or JPEG images".into()));
    }
    let decoded = files
        .iter()
        .map(|(_, p)| decode(p))
        .collect::<Result<Vec<_>>>()?;
    let (pixels, note) = to_pixels(decoded.into_iter(), shape);
    Ok(Images {
        shape,
        pixels,
        labels: files.into_iter().map(|(name, _)| name).collect(),
        note,
    })
}

/// Converts and resizes images into one pixel table, dropping each image as soon as it is
/// copied, so that memory holds little more than the result; with a note when any was
/// resized.
fn to_pixels(
    images: impl ExactSizeIterator<Item = DynamicImage>,
    shape: ImageShape,
) -> (Vec<f64>, Option<String>) {
    let mut pixels = Vec::with_capacity(images.len() * shape.pixels());
    let mut resized = 0;
    for image in images {
        let (width, height) = (shape.width as u32, shape.height as u32);
        let resize = (image.width(), image.height()) != (width, height);
        let raw = if shape.channels == 1 {
            fit(image.into_luma8(), width, height)
        } else {
            fit(image.into_rgb8(), width, height)
        };
        pixels.extend(raw.into_iter().map(f64::from));
        resized += usize::from(resize);
    }
    let note = (resized > 0).then(|| {
        let s = if resized == 1 { "" } else { "s" };
        format!(
            "resized {resized} image{s} to {}x{}",
            shape.height, shape.width
        )
    });
    (pixels, note)
}

/// The image's bytes in HWC order, resized to `width × height` when its size differs.
fn fit<P>(image: ImageBuffer<P, Vec<u8>>, width: u32, height: u32) -> Vec<u8>
where
    P: Pixel<Subpixel = u8> + 'static,
{
    if image.dimensions() == (width, height) {
        image.into_raw()
    } else {
        imageops::resize(&image, width, height, FilterType::Triangle).into_raw()
    }
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

/// Refuses a `dir` that is missing or not a folder.
fn check_folder(dir: &Path) -> Result<()> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(data_error(dir, "is not a folder".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(data_error(dir, "does not exist".into()))
        }
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// The entries of `dir` that are not hidden, with their names, sorted by name.
fn entries(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') {
            found.push((name, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// The image files of a class folder (png, jpg, jpeg in any case), sorted by name.
fn image_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let is_image = |path: &Path| {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        ["png", "jpg", "jpeg"]
            .iter()
            .any(|x| ext.eq_ignore_ascii_case(x))
            && path.is_file()
    };
    Ok(entries(dir)?
        .into_iter()
        .filter(|(_, p)| is_image(p))
        .collect())
}

/// Decodes one file, telling its format by its content (the extension only as a fallback).
fn decode(path: &Path) -> Result<DynamicImage> {
    let reader = image::io::Reader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| Error::io(path, e))?;
    reader.decode().map_err(|e| {
        let message = format!("cannot decode image: {e}");
        data_error(path, message.replace('\n', " "))
    })
}

/// The size all images share; refuses images of different sizes, naming two of them.
fn common_size(dir: &Path, decoded: &[Decoded]) -> Result<(usize, usize)> {
    let size = |d: &Decoded| (d.image.height() as usize, d.image.width() as usize);
    let first = &decoded[0];
    match decoded.iter().find(|d| size(d) != size(first)) {
        None => Ok(size(first)),
        Some(other) => {
            let ((h1, w1), (h2, w2)) = (size(first), size(other));
            let message = format!(
                "images have different sizes ({} is {h1}x{w1}, {} is {h2}x{w2}); pass --image \
                 HxW to resize them",
                first.name, other.name
            );
            Err(data_error(dir, message))
        }
    }
}

/// Refuses a requested size that is empty or beyond what an image can hold, before any file
/// is read.
fn check_size((height, width): (usize, usize)) -> Result<()> {
    let flag = format!("--image {height}x{width}");
    if height == 0 || width == 0 {
        return Err(Error::Usage(format!(
            "{flag}: height and width must be at least 1"
        )));
    }
    if u32::try_from(height).is_err() || u32::try_from(width).is_err() {
        return Err(Error::Usage(format!("{flag}: is too large for an image")));
    }
    Ok(())
}

/// Refuses a requested size at which `count` RGB images would not fit in memory: resizing
/// small files up can ask for far more than the files hold.
fn check_memory((height, width): (usize, usize), count: usize) -> Result<(usize, usize)> {
    let needed = count as f64 * height as f64 * width as f64 * 3.0 * 8.0;
    match crate::memory::available() {
        Some(free) if needed > free as f64 => Err(Error::Usage(format!(
            "--image {height}x{width}: {count} images of that size need about {} of memory, \
             but only {} is available",
            crate::memory::gb(needed),
            crate::memory::gb(free as f64)
        ))),
        _ => Ok((height, width)),
    }
}

#[cfg(test)]
mod tests {
    use image::{GrayImage, Luma, Rgb, RgbImage, Rgba, RgbaImage};

    use super::*;

    /// Creates `dir/class/` and returns the path of `file` in it.
    fn file(dir: &Path, class: &str, file: &str) -> PathBuf {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        dir.join(class).join(file)
    }

    /// A grey image of `height × width` filled with `value`.
    fn grey(height: u32, width: u32, value: u8) -> GrayImage {
        GrayImage::from_pixel(width, height, Luma([value]))
    }

    /// The message of a refusal, checked to start with `path`.
    fn refusal(result: Result<Images>, path: &Path) -> String {
        let message = result.map(|_| ()).unwrap_err().to_string();
        assert!(
            message.starts_with(&path.display().to_string()),
            "{message}"
        );
        message
    }

    #[test]
    fn reads_grey_pixels_in_hwc_order_with_sorted_classes_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // A 2x3 image whose pixel at (row, col) is 10 * row + col.
        let distinct = GrayImage::from_fn(3, 2, |x, y| Luma([(10 * y + x) as u8]));
        distinct.save(file(d, "9", "b.png")).unwrap();
        grey(2, 3, 200).save(file(d, "9", "a.PNG")).unwrap();
        grey(2, 3, 7).save(file(d, "10", "z.png")).unwrap();
        // Ignored: other extensions, hidden files and folders (garbage if they were read).
        std::fs::write(file(d, "9", "notes.txt"), "not an image").unwrap();
        std::fs::write(file(d, "9", ".hidden.png"), "garbage").unwrap();
        std::fs::write(file(d, ".cache", "x.png"), "garbage").unwrap();
        std::fs::write(d.join("README.png"), "garbage").unwrap();
        let images = read_folder(d, None, None).unwrap();
        assert_eq!(images.shape, ImageShape::parse("2x3x1").unwrap());
        // Classes in natural order ("9" before "10"), files by name (a.PNG before b.png).
        assert_eq!(images.labels, ["9", "9", "10"]);
        assert_eq!(images.pixels[..6], [200.0; 6]);
        assert_eq!(images.pixels[6..12], [0.0, 1.0, 2.0, 10.0, 11.0, 12.0]);
        assert_eq!(images.pixels[12..], [7.0; 6]);
        assert_eq!(images.note, None);
        let data = images.into_dataset();
        assert_eq!(data.labels().unwrap(), ["9", "10"]);
        assert_eq!(data.feature_names[..2], ["px_0_0", "px_0_1"]);
    }

    #[test]
    fn one_colour_image_makes_every_image_rgb() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        grey(1, 2, 50).save(file(d, "a", "grey.png")).unwrap();
        let rgb = RgbImage::from_fn(2, 1, |x, _| Rgb([1 + x as u8, 20, 30]));
        rgb.save(file(d, "b", "rgb.png")).unwrap();
        RgbaImage::from_pixel(2, 1, Rgba([4, 5, 6, 0]))
            .save(file(d, "b", "rgba.png"))
            .unwrap();
        // A flat colour survives JPEG's loss to within a few levels.
        RgbImage::from_pixel(8, 8, Rgb([200, 100, 50]))
            .save(file(d, "c", "flat.JPEG"))
            .unwrap();
        let images = read_folder(d, Some((1, 2)), None).unwrap();
        assert_eq!(images.shape, ImageShape::parse("1x2x3").unwrap());
        assert_eq!(images.labels, ["a", "b", "b", "c"]);
        let px = &images.pixels;
        assert_eq!(px[..6], [50.0; 6]);
        assert_eq!(px[6..12], [1.0, 20.0, 30.0, 2.0, 20.0, 30.0]);
        assert_eq!(px[12..18], [4.0, 5.0, 6.0, 4.0, 5.0, 6.0]);
        for (got, want) in px[18..].iter().zip([200.0, 100.0, 50.0].iter().cycle()) {
            assert!((got - want).abs() <= 4.0, "{got} vs {want}");
        }
        assert_eq!(images.note.as_deref(), Some("resized 1 image to 1x2"));
    }

    #[test]
    fn different_sizes_are_refused_or_resized() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        grey(8, 8, 10).save(file(d, "cat", "a.png")).unwrap();
        grey(10, 12, 90).save(file(d, "cat", "b.png")).unwrap();
        grey(8, 8, 30).save(file(d, "dog", "c.png")).unwrap();
        let m = refusal(read_folder(d, None, None), d);
        assert!(m.contains("cat/a.png is 8x8, cat/b.png is 10x12"), "{m}");
        assert!(m.contains("pass --image HxW"), "{m}");
        let images = read_folder(d, Some((4, 5)), None).unwrap();
        assert_eq!(images.shape, ImageShape::parse("4x5").unwrap());
        assert_eq!(images.note.as_deref(), Some("resized 3 images to 4x5"));
        // Resizing a flat image keeps its value.
        assert_eq!(images.pixels[20..40], [90.0; 20]);
        assert_eq!(images.pixels.len(), 60);
        let images = read_folder(d, Some((8, 8)), None).unwrap();
        assert_eq!(images.note.as_deref(), Some("resized 1 image to 8x8"));
        // A bad size is a usage error, found before any file is read.
        let e = read_folder(&d.join("missing"), Some((0, 8)), None).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--image 0x8"), "{e}");
    }

    #[test]
    fn images_to_predict_on_take_the_runs_shape_and_keep_their_names() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        grey(2, 2, 40).save(d.join("loose.png")).unwrap();
        RgbImage::from_pixel(4, 4, Rgb([9, 9, 9]))
            .save(file(d, "cat", "a.png"))
            .unwrap();
        let shape = ImageShape::parse("2x2x3").unwrap();
        let images = read_unlabelled(d, shape).unwrap();
        assert_eq!(images.labels, ["loose.png", "cat/a.png"]);
        assert_eq!(images.pixels[..12], [40.0; 12]);
        assert_eq!(images.pixels[12..], [9.0; 12]);
        assert_eq!(images.note.as_deref(), Some("resized 1 image to 2x2"));
        let one = read_unlabelled(&d.join("loose.png"), shape).unwrap();
        assert_eq!(one.labels, ["loose.png"]);
        let empty = d.join("empty");
        std::fs::create_dir(&empty).unwrap();
        let m = read_unlabelled(&empty, shape).unwrap_err().to_string();
        assert!(m.ends_with("empty: holds no PNG or JPEG images"), "{m}");
        std::fs::remove_dir(&empty).unwrap();
        // A trained model's channels win over the files' colours.
        let grey_run = read_folder(d, None, Some(1)).unwrap();
        assert_eq!(grey_run.shape, ImageShape::parse("4x4x1").unwrap());
    }

    #[test]
    fn refuses_a_missing_path_or_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        assert!(refusal(read_folder(&missing, None, None), &missing).ends_with("does not exist"));
        let flat = dir.path().join("flat.png");
        std::fs::write(&flat, "x").unwrap();
        assert!(refusal(read_folder(&flat, None, None), &flat).ends_with("is not a folder"));
    }

    #[test]
    fn refuses_a_folder_without_classes_or_a_class_without_images() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        grey(2, 2, 1).save(d.join("loose.png")).unwrap();
        let m = refusal(read_folder(d, None, None), d);
        assert!(m.contains("has no class subfolders"), "{m}");
        // One class is fine here; training decides whether it is enough.
        grey(2, 2, 1).save(file(d, "cat", "a.png")).unwrap();
        assert_eq!(read_folder(d, None, None).unwrap().labels, ["cat"]);
        std::fs::write(file(d, "dog", "notes.txt"), "no images here").unwrap();
        let m = refusal(read_folder(d, None, None), &d.join("dog"));
        assert!(m.ends_with("dog: class folder has no images"), "{m}");
    }

    #[test]
    fn refuses_corrupt_and_truncated_images_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        grey(2, 2, 1).save(file(d, "cat", "a.png")).unwrap();
        let corrupt = file(d, "dog", "corrupt.png");
        std::fs::write(&corrupt, "not a png at all").unwrap();
        let m = refusal(read_folder(d, None, None), &corrupt);
        assert!(m.contains("cannot decode image"), "{m}");
        let mut png = Vec::new();
        let encoder = image::codecs::png::PngEncoder::new(&mut png);
        grey(16, 16, 3).write_with_encoder(encoder).unwrap();
        let truncated = file(d, "dog", "truncated.png");
        std::fs::remove_file(&corrupt).unwrap();
        std::fs::write(&truncated, &png[..png.len() / 2]).unwrap();
        let m = refusal(read_folder(d, None, None), &truncated);
        assert!(
            m.contains("cannot decode image") && !m.contains('\n'),
            "{m}"
        );
    }
}
