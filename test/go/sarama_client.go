// sarama (Go) against Raftline's Kafka listener, at the Kafka 2.1 protocol level, driven by
// test/integration/kafka-sarama.test.ts:
//
//	sarama_client produce BROKERS TOPIC PREFIX COUNT   idempotent, acks=all; prints "acked N"
//	sarama_client consume BROKERS TOPIC GROUP COUNT    reads COUNT records in the group, commits, prints one
//	                                                   JSON line with the values
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

func config() *sarama.Config {
	c := sarama.NewConfig()
	c.Version = sarama.V2_1_0_0
	c.ClientID = "sarama-test"
	return c
}

func produce(brokers []string, topic, prefix string, count int) error {
	c := config()
	c.Producer.Idempotent = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Retry.Max = 20
	c.Producer.Retry.Backoff = 200 * time.Millisecond
	c.Producer.Return.Successes = true
	c.Net.MaxOpenRequests = 1
	p, err := sarama.NewSyncProducer(brokers, c)
	if err != nil {
		return err
	}
	defer p.Close()
	for i := 0; i < count; i++ {
		msg := &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(fmt.Sprintf("k%d", i)), Value: sarama.StringEncoder(fmt.Sprintf("%s-%d", prefix, i))}
		if _, _, err := p.SendMessage(msg); err != nil {
			return err
		}
	}
	fmt.Println("acked", count)
	return nil
}

type handler struct {
	mu     sync.Mutex
	values []string
	want   int
	done   chan struct{}
	once   sync.Once
}

func (h *handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *handler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		h.mu.Lock()
		if len(h.values) < h.want {
			h.values = append(h.values, string(m.Value))
			s.MarkMessage(m, "")
		}
		full := len(h.values) >= h.want
		h.mu.Unlock()
		if full {
			h.once.Do(func() { close(h.done) })
		}
	}
	return nil
}

func consume(brokers []string, topic, group string, count int) error {
	c := config()
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Offsets.CommitInterval = 100 * time.Millisecond
	g, err := sarama.NewConsumerGroup(brokers, group, c)
	if err != nil {
		return err
	}
	h := &handler{want: count, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{topic}, h); err != nil {
				fmt.Fprintln(os.Stderr, "consume:", err)
				time.Sleep(200 * time.Millisecond)
			}
		}
	}()
	select {
	case <-h.done:
	case <-time.After(60 * time.Second):
	}
	cancel()
	// Closing the group commits what was marked.
	if err := g.Close(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	out, _ := json.Marshal(h.values)
	fmt.Println(string(out))
	if len(h.values) < count {
		return fmt.Errorf("read %d of %d", len(h.values), count)
	}
	return nil
}

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: sarama_client produce|consume BROKERS TOPIC PREFIX|GROUP COUNT")
		os.Exit(2)
	}
	brokers := strings.Split(os.Args[2], ",")
	count, err := strconv.Atoi(os.Args[5])
	if err == nil {
		switch os.Args[1] {
		case "produce":
			err = produce(brokers, os.Args[3], os.Args[4], count)
		case "consume":
			err = consume(brokers, os.Args[3], os.Args[4], count)
		default:
			err = fmt.Errorf("unknown mode %s", os.Args[1])
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
