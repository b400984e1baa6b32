// FerretDB v1.24.2 (MongoDB wire protocol) on SQLite, for machines that cannot pull the `mongo` image
// (docker-compose.ferretdb.yml). Built as a dependency of this small module: a plain
// `go install .../cmd/ferretdb` binary panics at start (its version check wants a generated file).
// `-ping URI` is the container's healthcheck: a MongoDB `ping` answered over the wire protocol.
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func ping(uri string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		return 1
	}
	defer client.Disconnect(ctx) //nolint:errcheck
	if err := client.Ping(ctx, nil); err != nil {
		return 1
	}
	return 0
}

func main() {
	listen := flag.String("listen-addr", "0.0.0.0:27017", "TCP address")
	sqlite := flag.String("sqlite-url", "file:/data/db/", "SQLite folder URL (trailing slash)")
	pingURI := flag.String("ping", "", "ping this MongoDB URI and exit 0 when it answers")
	flag.Parse()
	if *pingURI != "" {
		os.Exit(ping(*pingURI))
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen}, Handler: "sqlite", SQLiteURL: *sqlite, Logger: logger,
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log.Printf("FerretDB v1.24.2 listening on %s", *listen)
	if err := f.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
