"""The Spark run that ``spark_jobs.class_archive`` records the driver's classes from.

    spark-submit --driver-java-options -XX:ArchiveClassesAtExit=<file> class_archive_workload.py <scratch dir>

It touches what the pipeline's jobs load: JSON parsing, windows, joins, explode, pivots,
observations, Parquet with zstd, Arrow and pandas functions, and a Hive catalog with DDL. Classes
it misses still load the ordinary way; only their start-up saving is lost. No project data is read.
"""

from __future__ import annotations

import json
import sys

from pyspark.sql import Observation, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

PAYLOAD = T.StructType([
    T.StructField("id", T.StringType()), T.StructField("name", T.StringType()),
    T.StructField("popularity", T.LongType()), T.StructField("genres", T.ArrayType(T.StringType())),
    T.StructField("followers", T.StructType([T.StructField("total", T.LongType())])),
    T.StructField("_corrupt_record", T.StringType()),
])


def main(scratch: str) -> None:
    spark = (SparkSession.builder.appName("spark-class-archive").enableHiveSupport()
             .config("spark.sql.warehouse.dir", f"{scratch}/warehouse")
             .config("spark.hadoop.javax.jdo.option.ConnectionURL",
                     f"jdbc:derby:;databaseName={scratch}/metastore_db;create=true")
             .config("spark.sql.parquet.compression.codec", "zstd")
             .config("spark.sql.shuffle.partitions", "4")
             .getOrCreate())
    rows = [(str(i), f"2026-01-0{1 + i % 9}T00:00:00.000000Z", f"run{i % 3}",
             json.dumps({"id": f"a{i % 50}", "name": f"n{i}", "popularity": i % 100, "genres": ["pop", "rock"],
                         "followers": {"total": i}}) if i % 97 else "{broken")
            for i in range(3000)]
    bronze = spark.createDataFrame(rows, "_id string, fetched_at string, run_id string, payload string")
    parsed = bronze.select(
        "*", F.from_json("payload", PAYLOAD, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt_record"})
        .alias("p"), F.xxhash64("payload").alias("h"),
        F.try_to_timestamp(F.col("fetched_at"), F.lit("yyyy-MM-dd'T'HH:mm:ss.SSSSSSX")).alias("ts"))
    latest_first = Window.partitionBy("p.id").orderBy(F.col("ts").desc(), F.col("h").desc())
    latest = parsed.withColumn("rn", F.row_number().over(latest_first)).where("rn = 1").persist()
    genres = (latest.select(F.col("p.id").alias("id"), F.posexplode("p.genres").alias("pos", "genre"))
              .groupBy("id", "genre").agg(F.min("pos").alias("pos")))
    rows_seen = Observation("rows")
    joined = (latest.join(genres, latest["p.id"] == genres["id"], "full")
              .select(F.coalesce(F.col("id"), F.col("p.id")).alias("id"), "genre", "pos",
                      F.col("p.popularity").alias("popularity"), F.to_date("ts").alias("day"),
                      F.get(F.col("p.genres"), 0).alias("first_genre"),
                      F.transform("p.genres", F.upper).alias("genres_upper"))
              .observe(rows_seen, F.count(F.lit(1)).alias("n")))
    joined.write.mode("overwrite").parquet(f"{scratch}/table")
    table = spark.read.schema(joined.schema).parquet(f"{scratch}/table")
    table.groupBy("id").pivot("genre", ["POP", "pop", "rock"]).agg(F.first("popularity")).collect()
    table.agg(F.approx_count_distinct("id"), F.percentile_approx("popularity", 0.5), F.max("day")).collect()
    table.join(latest.select(F.col("p.id").alias("id")), on="id", how="left_anti").count()

    def plus_one(batches):
        for pdf in batches:
            yield pdf.assign(popularity=pdf["popularity"] + 1)

    table.select("id", "popularity").mapInPandas(plus_one, "id string, popularity long").count()
    table.select("id", "popularity").groupBy("id").applyInPandas(lambda pdf: pdf.head(1),
                                                                  "id string, popularity long").count()
    table.limit(100).toPandas()
    spark.sql(f"CREATE EXTERNAL TABLE archive_probe (id string, popularity bigint) STORED AS PARQUET "
              f"LOCATION '{scratch}/table'")
    spark.sql(f"ALTER TABLE archive_probe SET LOCATION '{scratch}/table'")
    spark.sql("DESCRIBE TABLE EXTENDED archive_probe").collect()
    rows_seen.get  # noqa: B018 - reads the observed metric, as the runner does
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])
