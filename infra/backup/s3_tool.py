"""S3 for backup.sh / restore.sh when the AWS CLI is not installed (boto3).

    s3_tool.py put LOCAL s3://bucket/key     upload (multipart for large files; the object appears
                                        only when the upload completes)
    s3_tool.py get s3://bucket/key LOCAL     download
    s3_tool.py mb BUCKET | rb BUCKET         create / remove a bucket (rb removes its objects first)
    s3_tool.py rm s3://bucket/key            remove an object
    s3_tool.py size s3://bucket/key          print the object's size in bytes

Endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or BEEBETA_S3_ENDPOINT (an S3-compatible server,
addressed path-style); region and credentials: the usual AWS_* variables, profile or role.
"""

import os
import sys

import boto3
from botocore.config import Config


def split(url):
    if not url.startswith("s3://") or "/" not in url[5:]:
        sys.exit(f"s3_tool.py: not an s3://bucket/key URL: {url}")
    bucket, key = url[5:].split("/", 1)
    if not bucket or not key:
        sys.exit(f"s3_tool.py: not an s3://bucket/key URL: {url}")
    return bucket, key


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    op, args = sys.argv[1], sys.argv[2:]
    endpoint = (
        os.environ.get("AWS_ENDPOINT_URL_S3")
        or os.environ.get("AWS_ENDPOINT_URL")
        or os.environ.get("BEEBETA_S3_ENDPOINT")
        or None
    )
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
    config = Config(s3={"addressing_style": "path"}) if endpoint else None
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region, config=config)
    if op == "put":
        bucket, key = split(args[1])
        s3.upload_file(args[0], bucket, key)
    elif op == "get":
        bucket, key = split(args[0])
        s3.download_file(bucket, key, args[1])
    elif op == "size":
        bucket, key = split(args[0])
        print(s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
    elif op == "rm":
        bucket, key = split(args[0])
        s3.delete_object(Bucket=bucket, Key=key)
    elif op == "mb":
        kwargs = {"Bucket": args[0]}
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
    elif op == "rb":
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=args[0]):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=args[0], Key=obj["Key"])
        s3.delete_bucket(Bucket=args[0])
    else:
        sys.exit(f"s3_tool.py: unknown operation {op}")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line, not a traceback: the shell script reports the failure
        sys.exit(f"s3_tool.py: {type(e).__name__}: {e}")
