"""Call protobench's REST API with `requests` alone.

    python rest_requests.py 127.0.0.1:8000

Start the server first: protobench serve --protocol rest --port 8000
"""

import io
import sys

import requests
from PIL import Image

# A handwritten zero from the 8x8 digits data set, one 0-16 intensity per pixel, row by row.
ZERO = [
    0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0,
    0, 4, 12, 0, 0, 8, 8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0,
    0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0,
]  # fmt: skip


def png_of(pixels: list[int]) -> bytes:
    """An 8x8 greyscale PNG: light ink on a dark background, as the model was trained."""
    image = Image.new("L", (8, 8))
    image.putdata([value * 255 // 16 for value in pixels])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def main(target: str) -> None:
    base = f"http://{target}"
    with requests.Session() as http:
        # GET: what the model expects and the order of its labels.
        model = http.get(f"{base}/models/iris", timeout=10)
        model.raise_for_status()  # turn a 4xx/5xx into an exception
        meta = model.json()
        print(f"GET /models/iris -> {model.status_code}: labels {meta['labels']}, "
              f"versions {meta['versions']}")  # fmt: skip

        # POST: one flower in, one prediction out. `json=` encodes the body and sets the header.
        flower = [5.1, 3.5, 1.4, 0.2]
        answer = http.post(f"{base}/models/iris/predict", json={"instances": [flower]}, timeout=10)
        answer.raise_for_status()
        body = answer.json()
        first = body["predictions"][0]
        print(f"POST /models/iris/predict {flower} -> {first['label']} "
              f"(version {body['version']}, served by {body['served_by']})")  # fmt: skip

        # PUT: a raw image as the body; Content-Type says what the bytes are.
        image = http.put(
            f"{base}/models/digits/image",
            data=png_of(ZERO),
            headers={"Content-Type": "image/png"},
            timeout=10,
        )
        image.raise_for_status()
        print(f"PUT /models/digits/image -> digit {image.json()['predictions'][0]['label']}")

        # DELETE: unload iris version 2 from this server process (a restart loads it again).
        deleted = http.delete(f"{base}/models/iris/versions/2", timeout=10)
        print(f"DELETE /models/iris/versions/2 -> {deleted.status_code}")

        # A client mistake: three features instead of four. No exception here: read the body.
        wrong = http.post(
            f"{base}/models/iris/predict", json={"instances": [[1, 2, 3]]}, timeout=10
        )
        error = wrong.json()
        print(f"POST with 3 features -> {wrong.status_code} {error['code']}: {error['message']}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python rest_requests.py HOST:PORT")
    main(sys.argv[1])
