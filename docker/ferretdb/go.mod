module spotifyplatform/ferretdb

go 1.24

require (
	github.com/FerretDB/FerretDB v1.24.2
	go.mongodb.org/mongo-driver v1.17.3
)
