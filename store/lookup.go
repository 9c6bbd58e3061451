package store

import (
	"context"
	"fmt"
	"time"

	"wirewatch/news"
)

// These serve "why didn't I get this?" ('wirewatch match --explain'): a
// reporter holds an article's link or its feed's guid, not wirewatch's
// item id, and wants to know what wirewatch did with it.

// maxFoundItems caps FindItems: one link or guid is carried by a handful
// of sources, not by thousands.
const maxFoundItems = 20

// FindItems returns the ids of items fetched at or after since whose
// feed key (guid) or link is ref, or whose link is the same article as
// ref once both are canonical (news.CanonicalURL: tracking parameters,
// "www." and the fragment do not count): newest first, at most 20. It
// reads every item of the window, so callers bound since; a known id is
// cheaper to look up with Item.
func (s *Store) FindItems(ctx context.Context, ref string, since time.Time) ([]string, error) {
	ids, err := s.findItems(ctx, ref, since)
	if err != nil {
		return nil, fmt.Errorf("store: find items %q: %w", ref, err)
	}
	return ids, nil
}

func (s *Store) findItems(ctx context.Context, ref string, since time.Time) ([]string, error) {
	named := news.NewItemRef(ref)
	rows, err := s.db.QueryContext(ctx, `SELECT id, item_key, link FROM items
		WHERE fetched_at >= $1 ORDER BY fetched_at DESC, id DESC`, since.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() && len(ids) < maxFoundItems {
		var id, key, link string
		if err := rows.Scan(&id, &key, &link); err != nil {
			return nil, err
		}
		// The id is asked with Item; here only the guid and the link count.
		if named.Names("", key, link) {
			ids = append(ids, id)
		}
	}
	return ids, rows.Err()
}

// ItemMatches returns the stored matches of item itemID in the topics
// named (those the config still has), in the order named: whether each
// topic matched it, as a baseline, or as a later sighting of a story
// (DuplicateOf). A topic that did not match the item has no entry.
func (s *Store) ItemMatches(ctx context.Context, itemID string, topicIDs []string) ([]news.Match, error) {
	out, err := s.itemMatches(ctx, itemID, topicIDs)
	if err != nil {
		return nil, fmt.Errorf("store: matches of item %q: %w", itemID, err)
	}
	return out, nil
}

func (s *Store) itemMatches(ctx context.Context, itemID string, topicIDs []string) ([]news.Match, error) {
	if len(topicIDs) == 0 {
		return nil, nil
	}
	args := []any{itemID}
	for _, id := range topicIDs {
		args = append(args, id)
	}
	// (topic_id, item_id) is the key: one probe per topic.
	rows, err := s.db.QueryContext(ctx, `SELECT `+matchColumns+` FROM matches m
		WHERE m.item_id = $1 AND m.topic_id IN (`+placeholders(2, len(topicIDs))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byTopic := map[string]news.Match{}
	for rows.Next() {
		var mr matchRow
		if err := rows.Scan(mr.dest()...); err != nil {
			return nil, err
		}
		m, err := mr.match()
		if err != nil {
			return nil, err
		}
		byTopic[m.TopicID] = m
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []news.Match
	for _, id := range topicIDs {
		if m, ok := byTopic[id]; ok {
			out = append(out, m)
			delete(byTopic, id) // a topic named twice is reported once
		}
	}
	return out, nil
}
