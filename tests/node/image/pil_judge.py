#!/usr/bin/python3
"""Pillow as an independent judge for the image codec tests (run with /usr/bin/python3).

  pil_judge.py judge FILE REF.rgba WIDTH HEIGHT
      Decodes FILE with Pillow and prints JSON: format, mode, width, height, psnr (RGB), psnrY (BT.601
      luma), exact (RGBA bytes identical to the reference, after converting to RGBA).
  pil_judge.py encode REF.rgba WIDTH HEIGHT OUT KIND
      Writes REF (raw RGBA) with Pillow as KIND: png-rgba, png-rgb, png-grey, png-palette, png-16, jpeg, jpeg-progressive, jpeg-grey, jpeg-444.
  pil_judge.py decode FILE OUT.rgba
      Decodes FILE with Pillow to raw RGBA and prints JSON width, height.
"""
import io
import json
import math
import sys

from PIL import Image


def psnr(a, b):
    if len(a) != len(b) or not a:
        return None
    se = sum((x - y) * (x - y) for x, y in zip(a, b))
    return 99.0 if se == 0 else 10 * math.log10(255 * 255 * len(a) / se)


def luma(img):
    # BT.601 luma in floating point, as the JS side computes it.
    return [0.299 * r + 0.587 * g + 0.114 * b for r, g, b in img.getdata()]


def psnr_float(a, b):
    se = sum((x - y) * (x - y) for x, y in zip(a, b))
    return 99.0 if se == 0 else 10 * math.log10(255 * 255 * len(a) / se)


def judge(path, ref_path, w, h):
    im = Image.open(path)
    fmt, mode = im.format, im.mode
    im.load()
    out = {"format": fmt, "mode": mode, "width": im.width, "height": im.height}
    ref = Image.frombytes("RGBA", (w, h), open(ref_path, "rb").read())
    if (im.width, im.height) == (w, h):
        rgba = im.convert("RGBA")
        out["exact"] = rgba.tobytes() == ref.tobytes()
        got, want = rgba.convert("RGB"), ref.convert("RGB")
        out["psnr"] = psnr(got.tobytes(), want.tobytes())
        out["psnrY"] = psnr_float(luma(got), luma(want))
    print(json.dumps(out))


def encode(ref_path, w, h, out_path, kind):
    ref = Image.frombytes("RGBA", (w, h), open(ref_path, "rb").read())
    if kind == "png-rgba":
        ref.save(out_path, "PNG")
    elif kind == "png-rgb":
        ref.convert("RGB").save(out_path, "PNG")
    elif kind == "png-grey":
        ref.convert("L").save(out_path, "PNG")
    elif kind == "png-palette":
        ref.convert("RGB").quantize(64).save(out_path, "PNG")
    elif kind == "png-16":
        # 16-bit greyscale ("I;16"): each 8-bit grey value v becomes v*257.
        grey = ref.convert("L")
        im16 = Image.new("I;16", (w, h))
        im16.putdata([v * 257 for v in grey.getdata()])
        im16.save(out_path, "PNG")
    elif kind == "jpeg":
        ref.convert("RGB").save(out_path, "JPEG", quality=90)
    elif kind == "jpeg-progressive":
        ref.convert("RGB").save(out_path, "JPEG", quality=90, progressive=True)
    elif kind == "jpeg-grey":
        ref.convert("L").save(out_path, "JPEG", quality=90)
    elif kind == "jpeg-444":
        ref.convert("RGB").save(out_path, "JPEG", quality=95, subsampling=0)
    else:
        raise SystemExit("unknown kind " + kind)


def decode(path, out_path):
    im = Image.open(path)
    rgba = im.convert("RGBA")
    open(out_path, "wb").write(rgba.tobytes())
    print(json.dumps({"width": im.width, "height": im.height, "mode": im.mode}))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "judge":
        judge(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "encode":
        encode(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6])
    elif cmd == "decode":
        decode(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)
